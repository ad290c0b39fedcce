using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Copying;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Loading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Ferry.Transfer;
using Ferry.Transfer.Sinks;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary>
/// <c>ferry copy</c>: any source to any destination through the transfer engine — registry, Docker Engine or archive
/// into registry, Engine or archive — in skopeo's transport syntax (<c>ferry copy SRC DST</c>), or a list of registry
/// images into a target registry (<c>--to</c>).
/// </summary>
internal static class CopyCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Arity = ArgumentArity.ZeroOrMore, Description = "SOURCE... DESTINATION in transport syntax (docker://REF, docker-daemon:REF, docker-archive:PATH[:REF], oci-archive:PATH[:REF], oci:DIR[:REF], ferry-archive:PATH or a path); with --to or --as, only sources (a bare name is a registry image). Without images and -f, the list is read from stdin." };
        var file = new Option<string?>("--file", "-f") { Description = "Image list: one reference per line; blank lines and lines starting with # or // are ignored; - reads stdin (typed at a prompt on a terminal)" };
        var to = new Option<string?>("--to") { Description = "Target registry host[:port], optionally with a path prefix (registry:5000/mirror): every image keeps its repository and tag under it" };
        var nameAs = new Option<string?>("--as") { Description = "Copy the one image under this full registry name (registry:5000/team/app:2.0)" };
        var platforms = new PlatformOptions("copy", "the host's from a registry, what is there from an archive or Engine, the Engine's own into an Engine");
        var jobs = new Option<int>("--jobs", "-j") { Description = "Images processed concurrently (1-20)", DefaultValueFactory = _ => 4 };
        var transfers = new Option<int>("--max-concurrent-transfers") { Description = "Blobs moving at once, all images together (1-32)", DefaultValueFactory = _ => 8 };
        var source = new Option<string?>("--source-registry", "-s") { Description = "Pull every registry image from this registry instead; the target keeps the names as written" };
        var failed = new Option<string>("--failed") { Description = "Where the list lines that failed are written (only when something failed)", DefaultValueFactory = _ => "copy-failed.txt" };
        var shard = new Option<string?>("--shard") { Description = "Copy only this part of the list, INDEX/COUNT (e.g. 3/16), as save --shard picks it" };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only" };
        var progress = new Option<string>("--progress") { Description = "plain (default) or json (one JSON object per event on stderr)", DefaultValueFactory = _ => "plain" };
        progress.AcceptOnlyFromAmong("plain", "json");
        var noReferrers = SignatureOptions.NoReferrers("Copy the images only, without their signatures, attestations and SBOMs");
        var command = new Command("copy", """
            Copy images from any source to any destination, every digest unchanged.

            Sources and destinations are written as skopeo writes them: docker://REF (a registry), docker-daemon:REF (a Docker
            Engine), docker-archive:PATH[:REF], oci-archive:PATH[:REF], oci:DIR[:REF] and ferry-archive:PATH (any archive
            Ferry reads; written, oci: is a layout directory and the others one tar that docker, podman, skopeo and ctr load).
            Each blob streams once, verified: registry to registry never touches the disk (mounted within one registry),
            registry to Engine needs no docker pull, Engine to registry no archive.

            Examples:
              ferry copy docker://registry:5000/app:1.0 docker-daemon:app:1.0
              ferry copy docker-daemon:app:1.0 docker://registry.internal:5000/team/app:1.0 --dest-username ci --dest-password-stdin
              ferry copy docker-archive:app.tar oci:app-layout --manifest-format oci
              ferry copy bundle.tar docker://registry.internal:5000/mirror
              ferry copy -f images.txt --to registry.internal:5000/mirror -j 8 -a amd64,arm64
              ferry copy docker.io/library/nginx:1.27 --as registry.internal:5000/web/nginx:stable
            """)
        {
            images, file, to, nameAs, jobs, transfers, source, failed, shard, progress, debug, quiet, noReferrers,
        };
        platforms.AddTo(command);
        var format = new ManifestFormatOption();
        format.AddTo(command);
        var cache = new CacheOption();
        command.Options.Add(cache.Option);
        var access = new RegistryAccessOptions();
        access.AddTo(command);
        var destination = new DestinationAccessOptions();
        destination.AddTo(command);
        var rate = new TransferRateOptions(uploads: true);
        rate.AddTo(command);
        var engine = new DockerEngineOptions();
        engine.AddTo(command);
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            var isQuiet = parseResult.GetValue(quiet);
            JsonLines.Enabled = parseResult.GetValue(progress) == "json";
            try
            {
                var arguments = (parseResult.GetValue(images) ?? []).ToList();
                var target = parseResult.GetValue(to);
                var name = parseResult.GetValue(nameAs);
                string? destinationText = null;
                if (target is null && name is null)
                {
                    if (arguments.Count == 0 || (arguments.Count == 1 && parseResult.GetValue(file) is null))
                    {
                        throw new InvalidInputException("say where to copy: ferry copy SOURCE DESTINATION, --to REGISTRY[/PREFIX], or --as REGISTRY/REPOSITORY:TAG (see 'ferry copy --help')");
                    }

                    destinationText = arguments[^1];
                    arguments.RemoveAt(arguments.Count - 1);
                    _ = ImageLocation.ParseDestination(destinationText);
                }
                else if (target is not null && name is not null)
                {
                    throw new InvalidInputException("--to and --as are exclusive: --as names the one image's full target");
                }

                var list = ImageListInput.Read(arguments, parseResult.GetValue(file), access.ReadsStdin(parseResult) || parseResult.GetValue(destination.PasswordStdin));
                var lines = list?.Select(e => e.Line).ToList() ?? arguments;
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

                var sources = lines.Select(l => ImageLocation.ParseSource(l)).ToList();
                var to_ = destinationText is null ? null : ImageLocation.ParseDestination(destinationText);
                var usesEngine = sources.Any(s => s.Kind == LocationKind.Daemon) || to_?.Kind == LocationKind.Daemon;
                if (!usesEngine && engine.NamesAnEngine(parseResult))
                {
                    throw new InvalidInputException("-H, --context and --machine choose the Docker Engine of a docker-daemon: source or destination; neither is one here");
                }

                var sourceRegistry = parseResult.GetValue(source);

                // Explicit credentials (--username, --ilogin) belong to the source's registry; --dest-* to the destination's.
                var credentialRegistry = sourceRegistry ?? sources.Where(s => s.Kind == LocationKind.Registry).Select(s => ImageReference.TryParse(s.Reference!, out var r, out _) ? r!.Registry : null).FirstOrDefault(r => r is not null) ?? "docker.io";
                var credentials = new DefaultCredentialProvider(access.Sources(parseResult, access.ExplicitCredential(parseResult, credentialRegistry), credentialRegistry));
                var logger = new StderrLogger(isDebug ? LogLevel.Debug : isQuiet ? LogLevel.Error : LogLevel.Warning);
                var count = SaveCommand.Range(parseResult.GetValue(transfers), 1, 32, "--max-concurrent-transfers");
                var clientOptions = rate.ApplyTo(access.ClientOptions(parseResult, count + 4), parseResult) with { Cache = cache.Open(parseResult) };
                var destinationRegistry = DestinationRegistry(target, name, to_);
                if (destination.Given(parseResult) && destinationRegistry is null)
                {
                    throw new InvalidInputException("--dest-username, --dest-password and --dest-authfile are for a destination registry; this destination is not one");
                }

                var destinationSources = destinationRegistry is null ? null : destination.Sources(parseResult, destinationRegistry, access.ReadsStdin(parseResult));
                var request = new CopyRequest
                {
                    Images = lines,
                    Target = target,
                    As = name,
                    Destination = destinationText,
                    Platforms = platforms.Selection(parseResult),
                    Jobs = SaveCommand.Range(parseResult.GetValue(jobs), 1, 20, "--jobs"),
                    MaxConcurrentTransfers = count,
                    SourceRegistry = sourceRegistry,
                    ContinueOnError = true,
                    Referrers = !parseResult.GetValue(noReferrers),
                    ManifestFormat = format.Value(parseResult),
                    Limits = reading.Limits(parseResult),
                    DestinationAccess = destinationSources is null ? null : new RegistryAccess(new DefaultCredentialProvider(destinationSources), clientOptions),
                    Daemon = usesEngine ? DockerEndpointResolver.Resolve(engine.Endpoint(parseResult)) : null,
                };
                string Where(int position) => list is null ? string.Empty : $"line {list[position - 1].LineNumber}: ";
                var bytesLines = new ByteLines(isQuiet);
                var results = new ListOrder();
                CopyResult result;
                try
                {
                    var intoRegistry = destinationRegistry is not null;
                    result = await Images.CopyAsync(request, new InOrderProgress<TransferEvent>(e => Report(e, isQuiet, intoRegistry, Where, bytesLines, results)), new RegistryAccess(credentials, clientOptions), logger, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    results.Flush();
                }

                if (result.Output is { } output && !isQuiet)
                {
                    Console.Error.WriteLine($"ferry: wrote {output} ({Units.Bytes(result.ArchiveBytes)})");
                }

                EventText.Converted(result.Converted, isQuiet);
                var failedFile = parseResult.GetValue(failed)!;
                var failedWhere = result.Failed.Count > 0
                    ? await FailedList.WriteAsync(failedFile, result.Failed.Select(f => lines[f.Position - 1]), cancellationToken).ConfigureAwait(false)
                    : string.Empty;

                return RunOutcome.Report("copied", result.Images.Count, result.Failed.Count, result.Images.Sum(i => i.UploadedBytes), target ?? name ?? destinationText!, failedWhere, isQuiet);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug);
            }
        });
        return command;
    }

    /// <summary>The registry the destination names, if it is one.</summary>
    private static string? DestinationRegistry(string? target, string? name, ImageLocation? destination) =>
        target is not null ? RegistryTarget.Parse(target).Registry
        : name is not null ? ImageReference.Parse(name).Registry
        : destination is { Kind: LocationKind.Registry, Reference: { } reference } ? (ImageReference.TryParse(reference, out var full, out _) ? full!.Registry : RegistryTarget.Parse(reference).Registry)
        : null;

    private static void Report(TransferEvent transferEvent, bool quiet, bool intoRegistry, Func<int, string> where, ByteLines bytesLines, ListOrder results)
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
            case ImageSavedEvent { Image: var saved, Position: var position } when !intoRegistry:
                results.Add(position, () => RunOutcome.Written("image-copied", saved, quiet));
                break;
            case DaemonMessageEvent { Line: var line } when !quiet && !JsonLines.Enabled:
                Console.Error.WriteLine($"ferry: daemon: {TerminalText.Escape(line)}");
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
