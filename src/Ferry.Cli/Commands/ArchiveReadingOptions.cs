using System.CommandLine;
using Ferry.Reading;

namespace Ferry.Cli.Commands;

/// <summary>Options of the commands that read archives (load, inspect, verify, merge, serve, copy): the limits each read is given.</summary>
internal sealed class ArchiveReadingOptions
{
    public Option<long?> MaxExpansion { get; } = new("--max-expansion") { Description = "Largest ratio a compressed archive or layer may expand by, beyond 256 MiB (default 1100: every gzip stream; FERRY_MAX_EXPANSION too)" };

    public void AddTo(Command command) => command.Options.Add(MaxExpansion);

    /// <summary>The limits to pass to each read; <see langword="null"/> when none is given (the defaults apply).</summary>
    public ArchiveLimits? Limits(ParseResult parseResult) =>
        parseResult.GetValue(MaxExpansion) is { } ratio
            ? (ratio is >= 1 and <= 1_000_000 ? ArchiveLimits.WithMaxExpansion(ratio) : throw new Errors.InvalidInputException($"--max-expansion must be between 1 and 1000000, not {ratio}"))
            : null;
}
