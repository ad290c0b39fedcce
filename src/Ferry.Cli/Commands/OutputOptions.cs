using System.CommandLine;

namespace Ferry.Cli.Commands;

/// <summary>How a command reports: <c>--progress plain|json</c>, <c>--debug</c>, <c>--quiet</c>; the same on every command that moves images.</summary>
internal sealed class OutputOptions
{
    public OutputOptions()
    {
        Progress.AcceptOnlyFromAmong("plain", "json");
    }

    public Option<string> Progress { get; } = new("--progress") { Description = "plain (default) or json (one JSON object per event on stderr)", DefaultValueFactory = _ => "plain" };

    public Option<bool> Debug { get; } = new("--debug") { Description = "Print HTTP-level detail (never secrets)" };

    public Option<bool> Quiet { get; } = new("--quiet", "-q") { Description = "Print errors only" };

    /// <summary>The options, in the order help lists them.</summary>
    public IEnumerable<Option> All => [Progress, Debug, Quiet];
}
