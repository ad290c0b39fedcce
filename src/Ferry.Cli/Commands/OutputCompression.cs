using Ferry.Errors;

namespace Ferry.Cli.Commands;

/// <summary>
/// The outer compression of an archive: <c>--compress</c> when given, else what the output's name says
/// (<c>.tar.gz</c>/<c>.tgz</c> gzip, <c>.tar.zst</c>/<c>.tzst</c> zstd), else none. A name and a flag that disagree are
/// refused rather than writing a plain tar under a compressed name.
/// </summary>
internal static class OutputCompression
{
    public static string Choose(System.CommandLine.ParseResult parseResult, System.CommandLine.Option<string> compress, string? output) =>
        Choose(parseResult.GetResult(compress) is { Implicit: false } ? parseResult.GetValue(compress) : null, output);

    private static string Choose(string? given, string? output)
    {
        var named = output is null ? null
            : output.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase) || output.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) ? "gzip"
            : output.EndsWith(".tar.zst", StringComparison.OrdinalIgnoreCase) || output.EndsWith(".tzst", StringComparison.OrdinalIgnoreCase) ? "zstd"
            : null;
        if (given is null)
        {
            return named ?? "none";
        }

        return named is not null && given != named
            ? throw new InvalidInputException($"-o {output} names a {named} archive, but --compress {given} was given: drop one, or name the file as what it holds")
            : given;
    }
}
