using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Errors;
using Ferry.Registry;

namespace Ferry.Cli.Commands;

/// <summary>How fast and in what pieces bytes cross the link: <c>--limit-rate</c> (every transferring command) and <c>--upload-chunk-size</c> (commands that push).</summary>
internal sealed class TransferRateOptions(bool uploads)
{
    public Option<string?> LimitRate { get; } = new("--limit-rate") { Description = "Cap on bytes per second, downloads and uploads each (20MiB, 500KiB, 2M; like curl/rsync) for shared WAN links" };

    public Option<string?> UploadChunkSize { get; } = new("--upload-chunk-size") { Description = "Upload blobs in chunks of this size (PATCH each; e.g. 16MiB) for registries or proxies that cap request bodies; default one streaming PUT" };

    public void AddTo(Command command)
    {
        command.Options.Add(LimitRate);
        if (uploads)
        {
            command.Options.Add(UploadChunkSize);
        }
    }

    /// <summary>The cap in bytes per second, or <see langword="null"/>.</summary>
    public long? Rate(ParseResult parseResult) => Rate(parseResult.GetValue(LimitRate));

    /// <summary>Parses a rate: a size, optionally followed by <c>/s</c>.</summary>
    public static long? Rate(string? text)
    {
        if (text is null)
        {
            return null;
        }

        var size = Units.ParseSize(text.EndsWith("/s", StringComparison.OrdinalIgnoreCase) ? text[..^2] : text, "--limit-rate");
        return size >= 1024 ? size : throw new InvalidInputException($"--limit-rate {text}: at least 1KiB per second");
    }

    public RegistryClientOptions ApplyTo(RegistryClientOptions options, ParseResult parseResult)
    {
        long? chunk = null;
        if (uploads && parseResult.GetValue(UploadChunkSize) is { } text)
        {
            chunk = Units.ParseSize(text, "--upload-chunk-size");
            if (chunk < 64 * 1024)
            {
                throw new InvalidInputException($"--upload-chunk-size {text}: at least 64KiB");
            }
        }

        return options with { MaxBytesPerSecond = Rate(parseResult), UploadChunkSize = chunk };
    }
}
