namespace Ferry.Cli.Output;

/// <summary>How a run that pushes images (load, copy) ends: its summary (a line, or a JSON object) and its exit code.</summary>
internal static class RunOutcome
{
    /// <summary>0 when everything was done, 2 when some images failed, 1 when none was done.</summary>
    public static int ExitCode(int done, int failed) => done == 0 ? ExitCodes.Failure : failed > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;

    /// <summary>Reports the end of a load or copy and returns the exit code.</summary>
    /// <param name="verb"><c>loaded</c> or <c>copied</c>.</param>
    /// <param name="done">Images pushed.</param>
    /// <param name="failed">Images that failed.</param>
    /// <param name="bytes">Bytes uploaded.</param>
    /// <param name="target">Where they went.</param>
    /// <param name="failedWhere">Where the failed list went (or why it did not).</param>
    /// <param name="quiet">Errors only.</param>
    public static int Report(string verb, int done, int failed, long bytes, string target, string failedWhere, bool quiet)
    {
        if (JsonLines.Enabled)
        {
            JsonLines.Write("summary", w =>
            {
                w.WriteNumber("images", done);
                w.WriteNumber("failed", failed);
                w.WriteNumber("uploadedBytes", bytes);
                w.WriteString("target", target);
            });
        }
        else if (done == 0)
        {
            ErrorPresenter.WriteError($"nothing {verb}: all {failed} image(s) failed{(failed > 0 ? $" ({failedWhere})" : string.Empty)}");
        }
        else if (failed > 0)
        {
            Console.Error.WriteLine($"ferry: {verb} {done} image(s) ({Units.Bytes(bytes)} uploaded) to {target}; {failed} failed, {failedWhere}");
        }
        else if (!quiet)
        {
            Console.Error.WriteLine($"ferry: {verb} {done} image(s) to {target}, {Units.Bytes(bytes)} uploaded");
        }

        return ExitCode(done, failed);
    }
}
