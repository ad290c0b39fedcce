using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.Cli.Output;

/// <summary>The one wording of per-image lines, shared by the plain printer and the live view.</summary>
internal static class EventText
{
    /// <summary><c>[3/14] docker.io/library/nginx:1.27 linux/amd64,linux/arm64/v8</c>.</summary>
    public static string Image(SavedImage image, int position, int count) =>
        $"[{position}/{count}] {TerminalText.Escape(image.Reference.ToString())} {TerminalText.Escape(string.Join(",", image.Platforms))}";

    /// <summary><c>[3/14] … saved 61.2 MB in 3.1 s</c>.</summary>
    public static string Saved(ImageWrittenEvent e) =>
        $"{Image(e.Image, e.Position, e.Count)} saved {Units.Bytes(e.Image.Bytes)} in {e.Elapsed.TotalSeconds:F1} s";

    /// <summary><c>[7/14] line 9: failed: …</c>; <paramref name="where"/> is empty or <c>line N: </c>.</summary>
    public static string Failed(ImageFailedEvent e, string where) =>
        $"[{e.Failure.Position}/{e.Count}] {where}failed: {TerminalText.Escape(ErrorPresenter.InFlags(e.Failure.Reason))}";

    /// <summary>
    /// <c>IMAGE: reason</c>, said once: a reason that already starts with the image (most of the library's do, in its
    /// normalised spelling) is not prefixed again.
    /// </summary>
    public static string ImageFailure(string image, string reason)
    {
        var colon = reason.IndexOf(": ", StringComparison.Ordinal);
        var named = colon > 0 && (reason[..colon] == image ||
            (References.ImageReference.TryParse(image, out var given, out _) && References.ImageReference.TryParse(reason[..colon], out var said, out _) && given!.ToString() == said!.ToString()));
        return named ? reason : $"{image}: {reason}";
    }

    /// <summary><c>resuming: 20.1 MiB from an earlier run in .bundle.tar.ferry-resume (each blob is checked before it counts)</c>.</summary>
    public static string Resuming(ResumingEvent e) =>
        $"resuming: {Units.Bytes(e.EarlierBytes)} of blobs from an interrupted run in {TerminalText.Escape(e.Path)} (each is checked before it counts)";

    /// <summary><c>ferry: warning: …</c> for text that came from outside (paths, server words), escaped for the terminal.</summary>
    public static string Warning(string message) => $"ferry: warning: {TerminalText.Escape(message)}";

    /// <summary>What a stopped or failed save kept, and how to continue or drop it.</summary>
    public static string Kept(ResumeKeptEvent e) =>
        $"kept {Units.Bytes(e.KeptBytes)} of blobs in {TerminalText.Escape(e.Path)}: the same command continues from there (--no-resume starts over and removes it; so does deleting it and its .journal)";

    /// <summary>
    /// Says out loud which manifests <c>--manifest-format</c> rewrote: <c>converted IMAGE sha256:… -> sha256:… (type)</c>
    /// on stderr, one per manifest or index, or a <c>manifest-converted</c> JSON event each.
    /// </summary>
    /// <param name="converted">The rewritten manifests.</param>
    /// <param name="mode">JSON or text, quiet or not.</param>
    public static void Converted(IReadOnlyList<ConvertedManifest> converted, OutputMode mode)
    {
        foreach (var change in converted)
        {
            if (mode.Json)
            {
                JsonLines.Write("manifest-converted", w =>
                {
                    w.WriteString("image", change.Image.ToString());
                    w.WriteString("from", change.From.ToString());
                    w.WriteString("to", change.To.ToString());
                    w.WriteString("mediaType", change.MediaType);
                });
            }
            else if (!mode.Quiet)
            {
                Console.Error.WriteLine($"ferry: converted {TerminalText.Escape(change.Image.ToString())} {change.From} -> {change.To} ({change.MediaType})");
            }
        }
    }
}
