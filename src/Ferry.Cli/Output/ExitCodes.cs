namespace Ferry.Cli.Output;

/// <summary>Ferry's exit codes.</summary>
internal static class ExitCodes
{
    /// <summary>Everything requested was done.</summary>
    public const int Success = 0;

    /// <summary>Nothing usable was produced, or the input was invalid.</summary>
    public const int Failure = 1;

    /// <summary>Bulk run: an archive of what succeeded was written, some images failed.</summary>
    public const int PartialFailure = 2;

    /// <summary>Interrupted by Ctrl-C (SIGINT).</summary>
    public const int Cancelled = 130;

    /// <summary>Stopped by SIGTERM.</summary>
    public const int Terminated = 143;
}
