using System.CommandLine;
using Ferry.Caching;

namespace Ferry.Cli.Commands;

/// <summary><c>--cache DIR</c> (or <c>FERRY_CACHE</c>): the blob cache that save, copy and inspect read through.</summary>
internal sealed class CacheOption
{
    public const string EnvironmentVariable = "FERRY_CACHE";

    public Option<string?> Option { get; } = new("--cache")
    {
        Description = $"Keep verified blobs in this directory and take them from there in later runs (also ${EnvironmentVariable}; off by default); see 'ferry cache'",
    };

    /// <summary>The directory given, or <c>FERRY_CACHE</c>'s, or <see langword="null"/>.</summary>
    public string? DirectoryOf(ParseResult parseResult) =>
        parseResult.GetValue(Option) is { Length: > 0 } given ? given
        : Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : null;

    /// <summary>The cache, or <see langword="null"/> when none is set.</summary>
    public BlobCache? Open(ParseResult parseResult) =>
        DirectoryOf(parseResult) is { } directory ? new BlobCache(directory) { Warn = line => Console.Error.WriteLine(Output.EventText.Warning(line)) } : null;
}
