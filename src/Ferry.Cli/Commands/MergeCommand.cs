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
        var archives = new Argument<string[]>("archives") { Arity = ArgumentArity.OneOrMore, Description = "Archives in any format Ferry reads (tar, tar.gz, tar.zst, directory; Ferry, docker, podman, skopeo, crane)" };
        var output = new Option<string>("--output", "-o") { Description = "The merged archive", Required = true };
        var format = new Option<string>("--format") { Description = "tar (default) or dir (the same layout as a directory)", DefaultValueFactory = _ => "tar" };
        format.AcceptOnlyFromAmong("tar", "dir");
        var compress = new Option<string>("--compress", "-c") { Description = "Outer compression: none (default), gzip, zstd, or dir (a plain directory)", DefaultValueFactory = _ => "none" };
        compress.AcceptOnlyFromAmong("none", "gzip", "zstd", "dir");
        var force = new Option<bool>("--force") { Description = "Rewrite the output even when it already holds these images at the same digests" };
        var progress = new Option<string>("--progress") { Description = "plain (default) or json (one JSON object per event on stderr)", DefaultValueFactory = _ => "plain" };
        progress.AcceptOnlyFromAmong("plain", "json");
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only" };
        var splitSize = new Option<string?>("--split-size") { Description = "Split the archive into parts OUTPUT.000, .001, … of at most this size (4GiB, 700MiB, 4.7GB): byte ranges of the one archive, which every ferry command reads from its first part and cat restores" };
        var checksums = new Option<bool>("--checksums") { Description = "Also write OUTPUT.sha256 (sha256sum -c format) once the archive is complete" };
        var debug = new Option<bool>("--debug") { Description = "Print detail" };
        var command = new Command("merge", """
            Merge archives into one: every image of each under its name, every blob once.

            A base layer shared by the bundles is stored once; every manifest keeps its bytes and digest. The same name
            at the same digest in two archives is one image; the same name at different digests is refused. Layers a
            partial archive leaves out stay left out (listed in ferry-partial.json).

            Examples:
              ferry merge monday.tar tuesday.tar -o week.tar
              ferry merge part-*.tar -o bundle.tar.zst --compress zstd
            """)
        {
            archives, output, format, compress, force, checksums, splitSize, progress, quiet, debug,
        };
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        var manifestFormat = new ManifestFormatOption();
        manifestFormat.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            var isQuiet = parseResult.GetValue(quiet);
            var json = parseResult.GetValue(progress) == "json";
            var outputMode = new OutputMode(json, isQuiet);
            try
            {
                var paths = parseResult.GetValue(archives)!;
                var compression = parseResult.GetValue(compress)!;
                var request = new MergeRequest
                {
                    Limits = reading.Limits(parseResult),
                    Archives = paths,
                    Output = parseResult.GetValue(output)!,
                    Format = parseResult.GetValue(format) == "dir" || compression == "dir" ? ArchiveFormat.Directory : ArchiveFormat.Tar,
                    Compression = compression switch { "gzip" => OuterCompression.Gzip, "zstd" => OuterCompression.Zstd, _ => OuterCompression.None },
                    Force = parseResult.GetValue(force),
                    Checksums = parseResult.GetValue(checksums),
                    ManifestFormat = manifestFormat.Value(parseResult),
                    SplitSize = parseResult.GetValue(splitSize) is { } size ? Units.ParseSize(size, "--split-size") : null,
                };
                var mode = json ? ProgressMode.Json : isQuiet ? ProgressMode.Quiet : ProgressMode.Plain;
                var printer = new SaveProgressPrinter(mode, isDebug, _ => string.Empty);
                var logger = new StderrLogger(isDebug ? LogLevel.Debug : isQuiet ? LogLevel.Error : LogLevel.Warning);
                SaveResult result;
                try
                {
                    result = await Images.MergeAsync(request, printer, logger, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    printer.Flush();
                }

                EventText.Converted(result.Converted, outputMode);
                if (json)
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
                else if (!isQuiet)
                {
                    Console.Error.WriteLine(result.Executed
                        ? $"ferry: merged {result.Images.Count} image(s) from {paths.Length} archive(s), {Units.Bytes(result.ArchiveBytes)}, into {result.Output}{SaveRunner.PartsText(result)}"
                        : $"ferry: {result.Output} is up to date: it holds these {result.Images.Count} image(s) at the same digests (--force rewrites it)");
                    if (result.ChecksumFile is { } sums)
                    {
                        Console.Error.WriteLine($"ferry: checksums in {sums} (check with: sha256sum -c {Path.GetFileName(sums)})");
                    }
                }

                if (result.Failed.Count > 0)
                {
                    foreach (var failure in result.Failed)
                    {
                        ErrorPresenter.WriteError($"{failure.Image}: {failure.Reason}", outputMode);
                    }
                }

                return result.Executed ? RunOutcome.ExitCode(result.Images.Count, result.Failed.Count) : ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug, outputMode);
            }
        });
        return command;
    }
}
