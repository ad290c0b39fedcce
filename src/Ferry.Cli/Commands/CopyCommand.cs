using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Copying;
using Ferry.Errors;
using Ferry.Loading;
using Ferry.References;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Ferry.Transfer;
using Ferry.Transfer.Sinks;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry copy</c>: registry → registry through the transfer engine, digests unchanged, nothing on disk.</summary>
internal static class CopyCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Arity = ArgumentArity.ZeroOrMore, Description = "Image references: name[:tag][@digest]. Without images and -f, the list is read from stdin." };
        var file = new Option<string?>("--file", "-f") { Description = "Image list: one reference per line; blank lines and lines starting with # or // are ignored; - reads stdin (typed at a prompt on a terminal)" };
        var to = new Option<string>("--to") { Description = "Target registry host[:port], optionally with a path prefix (registry:5000/mirror)", Required = true };
        var platform = new Option<string[]>("--platform") { Description = "Platform(s) to copy, os/arch[/variant], repeatable or comma-separated (default: the host's)" };
        var arch = new Option<string?>("--arch", "-a") { Description = "Architectures, comma-separated: shorthand for --platform OS/ARCH" };
        var os = new Option<string>("--os") { Description = "The OS for --arch", DefaultValueFactory = _ => "linux" };
        var allPlatforms = new Option<bool>("--all-platforms") { Description = "Copy every platform: the index is pushed byte-for-byte (same digest)" };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Images processed concurrently (1-20)", DefaultValueFactory = _ => 4 };
        var transfers = new Option<int>("--max-concurrent-transfers") { Description = "Blobs moving at once, all images together (1-32)", DefaultValueFactory = _ => 8 };
        var source = new Option<string?>("--source-registry", "-s") { Description = "Pull every image from this registry instead; the target keeps the names as written" };
        var failed = new Option<string>("--failed") { Description = "Where the list lines that failed are written (only when something failed)", DefaultValueFactory = _ => "copy-failed.txt" };
        var shard = new Option<string?>("--shard") { Description = "Copy only this part of the list, INDEX/COUNT (e.g. 3/16), as save --shard picks it" };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only" };
        var progress = new Option<string>("--progress") { Description = "plain (default) or json (one JSON object per event on stderr)", DefaultValueFactory = _ => "plain" };
        progress.AcceptOnlyFromAmong("plain", "json");
        var noReferrers = SignatureOptions.NoReferrers("Copy the images only, without their signatures, attestations and SBOMs");
        var command = new Command("copy", """
            Copy images from registries into a registry, every digest unchanged.

            Each blob streams from the source registry straight into the target (mounted instead when both are the same registry), never touching the disk;
            a blob shared by several images is uploaded once and mounted into the other repositories.

            Examples:
              ferry copy -f images.txt --to registry.internal:5000/mirror -j 8 -a amd64,arm64
              ferry copy docker.io/library/nginx:1.27 --to registry.internal:5000
            """)
        {
            images, file, to, platform, arch, os, allPlatforms, jobs, transfers, source, failed, shard, progress, debug, quiet, noReferrers,
        };
        var cache = new CacheOption();
        command.Options.Add(cache.Option);
        var access = new RegistryAccessOptions();
        access.AddTo(command);
        var rate = new TransferRateOptions(uploads: true);
        rate.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            var isQuiet = parseResult.GetValue(quiet);
            JsonLines.Enabled = parseResult.GetValue(progress) == "json";
            try
            {
                var list = ImageListInput.Read(parseResult.GetValue(images) ?? [], parseResult.GetValue(file), access.ReadsStdin(parseResult));
                var lines = list?.Select(e => e.Line).ToList() ?? [.. parseResult.GetValue(images) ?? []];
                if (lines.Count == 0)
                {
                    throw new InvalidInputException("no image given (see 'ferry copy --help')");
                }

                if (parseResult.GetValue(shard) is { } part)
                {
                    (list, lines) = ImageListInput.TakeShard(list, lines, Shard.Parse(part), isQuiet);
                    if (lines.Count == 0)
                    {
                        JsonLines.Write("summary", w => w.WriteNumber("images", 0));
                        return ExitCodes.Success;
                    }
                }

                var target = RegistryTarget.Parse(parseResult.GetValue(to)!);
                var sourceRegistry = parseResult.GetValue(source);

                // Explicit credentials (--username, --ilogin) belong to one registry: the source's, as for save.
                var credentialRegistry = sourceRegistry ?? lines.Select(l => ImageReference.TryParse(l.Trim(), out var r, out _) ? r!.Registry : null).FirstOrDefault(r => r is not null) ?? "docker.io";
                var credentials = new DefaultCredentialProvider(access.Sources(parseResult, access.ExplicitCredential(parseResult, credentialRegistry), credentialRegistry));
                var logger = new StderrLogger(isDebug ? LogLevel.Debug : isQuiet ? LogLevel.Error : LogLevel.Warning);
                var count = SaveCommand.Range(parseResult.GetValue(transfers), 1, 32, "--max-concurrent-transfers");
                var request = new CopyRequest
                {
                    Images = lines,
                    Target = parseResult.GetValue(to)!,
                    Platforms = SaveCommand.BuildSelection(parseResult.GetValue(platform) ?? [], parseResult.GetValue(arch), parseResult.GetValue(os)!, parseResult.GetValue(allPlatforms)),
                    Jobs = SaveCommand.Range(parseResult.GetValue(jobs), 1, 20, "--jobs"),
                    MaxConcurrentTransfers = count,
                    SourceRegistry = sourceRegistry,
                    ContinueOnError = true,
                    Referrers = !parseResult.GetValue(noReferrers),
                };
                string Where(int position) => list is null ? string.Empty : $"line {list[position - 1].LineNumber}: ";
                var bytesLines = new ByteLines(isQuiet);
                var results = new ListOrder();
                CopyResult result;
                try
                {
                    result = await Images.CopyAsync(request, new InOrderProgress<TransferEvent>(e => Report(e, isQuiet, Where, bytesLines, results)), new RegistryAccess(credentials, rate.ApplyTo(access.ClientOptions(parseResult, count + 4), parseResult) with { Cache = cache.Open(parseResult) }), logger, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    results.Flush();
                }

                var failedFile = parseResult.GetValue(failed)!;
                var failedWhere = result.Failed.Count > 0
                    ? await FailedList.WriteAsync(failedFile, result.Failed.Select(f => lines[f.Position - 1]), cancellationToken).ConfigureAwait(false)
                    : string.Empty;

                return RunOutcome.Report("copied", result.Images.Count, result.Failed.Count, result.Images.Sum(i => i.UploadedBytes), parseResult.GetValue(to)!, failedWhere, isQuiet);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug);
            }
        });
        return command;
    }

    private static void Report(TransferEvent transferEvent, bool quiet, Func<int, string> where, ByteLines bytesLines, ListOrder results)
    {
        switch (transferEvent)
        {
            case BytesTransferredEvent e:
                bytesLines.Add(e.Bytes);
                break;
            case ImagePushedEvent { Pushed: var pushed, Image: var image }:
                var copied = new LoadedImage(image.Image.Reference.ToString(), pushed.Target, pushed.Digest, false, pushed.Uploaded, pushed.Mounted, pushed.Existing, pushed.UploadedBytes);
                results.Add(image.Position, () => RunOutcome.Pushed("image-copied", copied, quiet));
                break;
            case ImageFailedEvent { Failure: var failure } when JsonLines.Enabled:
                results.Add(failure.Position, () => JsonLines.Write("image-failed", w =>
                {
                    w.WriteNumber("position", failure.Position);
                    w.WriteString("image", failure.Image);
                    w.WriteString("error", failure.Reason);
                }));
                break;
            case ImageFailedEvent { Failure: var failure }:
                results.Add(failure.Position, () => ErrorPresenter.WriteError($"{where(failure.Position)}{failure.Image}: {failure.Reason}"));
                break;
        }
    }
}
