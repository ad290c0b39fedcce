namespace Ferry.Cli.Output;

/// <summary>Writes a failed list (<c>--failed</c>); one that cannot be written is said, never a reason to lose what did succeed.</summary>
internal static class FailedList
{
    /// <summary>
    /// Writes the lines, after <paramref name="comments"/> as <c># </c> lines (every list Ferry reads skips them); returns a
    /// sentence saying where they are, or why they could not be written there.
    /// </summary>
    public static async Task<string> WriteAsync(string path, IEnumerable<string> lines, OutputMode mode, CancellationToken cancellationToken, params string[] comments)
    {
        try
        {
            await File.WriteAllLinesAsync(path, comments.Select(c => "# " + c).Concat(lines), cancellationToken).ConfigureAwait(false);
            return $"listed in {path}";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var reason = Directory.Exists(path) ? "it is a directory" : ex is UnauthorizedAccessException ? "permission denied" : ex.Message;
            ErrorPresenter.WriteError($"cannot write the failed list to {path}: {reason}", mode);
            return $"the failed list could not be written to {path}";
        }
    }
}
