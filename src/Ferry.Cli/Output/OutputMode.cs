namespace Ferry.Cli.Output;

/// <summary>
/// How the running command reports: one JSON object per line (<c>--progress json</c>) or text, and whether text is
/// errors only (<c>-q</c>). Each command makes it from its own flags and passes it to what prints; nothing is
/// process-wide.
/// </summary>
/// <param name="Json">JSON lines on stderr instead of text.</param>
/// <param name="Quiet">Errors only (text mode).</param>
internal sealed record OutputMode(bool Json, bool Quiet)
{
    /// <summary>Text, not quiet: commands without a JSON mode, and errors before a command has read its flags.</summary>
    public static OutputMode Text { get; } = new(false, false);

    /// <summary>Whether text that is not an error is printed.</summary>
    public bool TalksInText => !Json && !Quiet;
}
