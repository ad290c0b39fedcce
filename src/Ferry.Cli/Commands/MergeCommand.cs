using System.CommandLine;
using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Cli.Output;
using Ferry.Saving;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry merge</c>: several archives into one, shared blobs once, names and digests kept.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var options = new MergeOptions();
        var command = new Command("merge", """
            Merge archives into one: every image of each under its name, every blob once.

            A base layer shared by the bundles is stored once; every manifest keeps its bytes and digest. The same name
            at the same digest in two archives is one image; the same name at different digests is refused. Layers a
            partial archive leaves out stay left out (listed in ferry-partial.json).

            Examples:
              ferry merge monday.tar tuesday.tar -o week.tar
              ferry merge part-*.tar -o bundle.tar.zst --compress zstd
            """);
        options.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var mode = new OutputMode(parseResult.GetValue(options.Output.Progress) == "json", parseResult.GetValue(options.Output.Quiet));
            try
            {
                return await RunAsync(parseResult, options, mode, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, parseResult.GetValue(options.Output.Debug), mode);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parseResult, MergeOptions options, OutputMode mode, CancellationToken cancellationToken)
    {
        var isDebug = parseResult.GetValue(options.Output.Debug);
        var compression = OutputCompression.Choose(parseResult, options.Compress, parseResult.GetValue(options.Target));
        var request = new MergeRequest
        {
            Limits = options.Reading.Limits(parseResult),
            Archives = parseResult.GetValue(options.Archives)!,
            Output = parseResult.GetValue(options.Target)!,
            Format = parseResult.GetValue(options.Format) == "dir" || compression == "dir" ? ArchiveFormat.Directory : ArchiveFormat.Tar,
            Compression = compression switch { "gzip" => OuterCompression.Gzip, "zstd" => OuterCompression.Zstd, _ => OuterCompression.None },
            Force = parseResult.GetValue(options.Force),
            Checksums = parseResult.GetValue(options.Checksums),
            ManifestFormat = options.ManifestFormat.Value(parseResult),
            SplitSize = parseResult.GetValue(options.SplitSize) is { } size ? Units.ParseSize(size, "--split-size") : null,
        };
        var printer = new SaveProgressPrinter(mode.Json ? ProgressMode.Json : mode.Quiet ? ProgressMode.Quiet : ProgressMode.Plain, isDebug, _ => string.Empty) { Moving = "copying" };
        var logger = new StderrLogger(isDebug ? LogLevel.Debug : mode.Quiet ? LogLevel.Error : LogLevel.Warning);
        SaveResult result;
        try
        {
            result = await Images.MergeAsync(request, printer, logger, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            printer.Flush();
        }

        EventText.Converted(result.Converted, mode);
        Summarize(result, request.Archives.Count, mode);
        return result.Executed ? RunOutcome.ExitCode(result.Images.Count, result.Failed.Count) : ExitCodes.Success;
    }

    private static void Summarize(SaveResult result, int archives, OutputMode mode)
    {
        if (mode.Json)
        {
            JsonLines.Write("summary", w =>
            {
                w.WriteNumber("images", result.Images.Count);
                w.WriteNumber("failed", result.Failed.Count);
                w.WriteNumber("archiveBytes", result.ArchiveBytes);
                w.WriteString("output", result.Output);
                w.WriteBoolean("upToDate", !result.Executed);
            });
        }
        else if (!mode.Quiet)
        {
            Console.Error.WriteLine(result.Executed
                ? $"ferry: merged {result.Images.Count} image(s) from {archives} archive(s), {Units.Bytes(result.ArchiveBytes)}, into {result.Output}{SaveRunner.PartsText(result)}"
                : $"ferry: {result.Output} is up to date: it holds these {result.Images.Count} image(s) at the same digests (--force rewrites it)");
            if (result.ChecksumFile is { } sums)
            {
                Console.Error.WriteLine($"ferry: checksums in {sums} (check with: sha256sum -c {Path.GetFileName(sums)})");
            }
        }

        foreach (var failure in result.Failed)
        {
            ErrorPresenter.WriteError($"{failure.Image}: {failure.Reason}", mode);
        }
    }
}

/// <summary>The options of <c>ferry merge</c>: its own, the output group and the archive-reading and manifest-format groups.</summary>
internal sealed class MergeOptions
{
    public MergeOptions()
    {
        Format.AcceptOnlyFromAmong("tar", "dir");
        Compress.AcceptOnlyFromAmong("none", "gzip", "zstd", "dir");
    }

    public Argument<string[]> Archives { get; } = new("archives") { Arity = ArgumentArity.OneOrMore, Description = "Archives in any format Ferry reads (tar, tar.gz, tar.zst, directory; Ferry, docker, podman, skopeo, crane)" };

    public Option<string> Target { get; } = new("--output", "-o") { Description = "The merged archive", Required = true };

    public Option<string> Format { get; } = new("--format") { Description = "tar (default) or dir (the same layout as a directory)", DefaultValueFactory = _ => "tar" };

    public Option<string> Compress { get; } = new("--compress", "-c") { Description = "Outer compression: none, gzip, zstd, or dir (a plain directory); default: what -o's name says (.tar.gz/.tgz gzip, .tar.zst zstd), else none", DefaultValueFactory = _ => "none" };

    public Option<bool> Force { get; } = new("--force") { Description = "Rewrite the output even when it already holds these images at the same digests" };

    public Option<string?> SplitSize { get; } = new("--split-size") { Description = "Split the archive into parts OUTPUT.000, .001, … of at most this size (4GiB, 700MiB, 4.7GB): byte ranges of the one archive, which every ferry command reads from its first part and cat restores" };

    public Option<bool> Checksums { get; } = new("--checksums") { Description = "Also write OUTPUT.sha256 (sha256sum -c format) once the archive is complete" };

    public OutputOptions Output { get; } = new();

    public ArchiveReadingOptions Reading { get; } = new();

    public ManifestFormatOption ManifestFormat { get; } = new();

    public void AddTo(Command command)
    {
        command.Arguments.Add(Archives);
        foreach (var option in new Option[] { Target, Format, Compress, Force, Checksums, SplitSize }.Concat(Output.All))
        {
            command.Options.Add(option);
        }

        Reading.AddTo(command);
        ManifestFormat.AddTo(command);
    }
}
