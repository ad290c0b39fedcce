using System.CommandLine;
using Ferry.Errors;
using Ferry.Reading;

namespace Ferry.Cli.Commands;

/// <summary>Options of the commands that read archives (load, inspect, verify).</summary>
internal sealed class ArchiveReadingOptions
{
    public Option<long?> MaxExpansion { get; } = new("--max-expansion") { Description = "Largest ratio a compressed archive or layer may expand by, beyond 256 MiB (default 1100: every gzip stream; FERRY_MAX_EXPANSION too)" };

    public void AddTo(Command command) => command.Options.Add(MaxExpansion);

    /// <summary>Applies the options (process-wide: one command runs per process).</summary>
    public void Apply(ParseResult parseResult)
    {
        if (parseResult.GetValue(MaxExpansion) is { } ratio)
        {
            ArchiveFile.MaxExpansion = ratio is >= 1 and <= 1_000_000 ? ratio : throw new InvalidInputException($"--max-expansion must be between 1 and 1000000, not {ratio}");
        }
    }
}
