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
        var options = new CopyOptions();
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
            """);
        options.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(options.Debug);
            var mode = new OutputMode(parseResult.GetValue(options.Progress) == "json", parseResult.GetValue(options.Quiet));
            try
            {
                return await RunAsync(parseResult, options, mode, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug, mode);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parseResult, CopyOptions options, OutputMode mode, CancellationToken cancellationToken)
    {
        var (arguments, destinationText) = SplitDestination(parseResult, options);
        var tags = options.Tags.Selection(parseResult);
        var bundle = BundleInput.Read(parseResult.GetValue(options.File), arguments, tags);
        Func<ImageReference, ImageReference>? rename = null;
        IReadOnlyList<ImageListEntry>? list;
        List<string> lines;
        if (bundle is not null)
        {
            var (_, bundleAccess) = BuildRequest(parseResult, options, [], destinationText, bundle);
            var expansion = await BundleInput.ExpandAsync(bundle, bundleAccess, mode, cancellationToken).ConfigureAwait(false);
            (list, lines) = (null, [.. expansion.Images]);
            rename = expansion.Renames.Count > 0 ? expansion.Rename : null;
        }
        else
        {
            list = ImageListInput.Read(arguments, parseResult.GetValue(options.File), options.Access.ReadsStdin(parseResult) || parseResult.GetValue(options.Destination.PasswordStdin));
            lines = list?.Select(e => e.Line).ToList() ?? arguments;
        }

        if (lines.Count == 0)
        {
            throw new InvalidInputException("no image given (see 'ferry copy --help')");
        }

        if (tags.IsActive)
        {
            // Whole repositories: each listed once, each tag then one image of the run (shards split tags).
            var (probe, listing) = BuildRequest(parseResult, options, lines, destinationText, bundle);
            lines = await TagLines.ExpandAsync(lines, tags, listing, probe.SourceRegistry, mode, cancellationToken).ConfigureAwait(false);
            list = null;
        }

        if (parseResult.GetValue(options.Shard) is { } part)
        {
            (list, lines) = ImageListInput.TakeShard(list, lines, Shard.Parse(part), mode);
            if (lines.Count == 0)
            {
                if (mode.Json)
                {
                    JsonLines.Write("summary", w => w.WriteNumber("images", 0));
                }

                return ExitCodes.Success;
            }
        }

        var (built, access) = BuildRequest(parseResult, options, lines, destinationText, bundle);
        var request = built with { Rename = rename, Files = bundle is null ? [] : BundleInput.FilesOf(bundle) };
        if (parseResult.GetValue(options.DryRun))
        {
            return SourcesOf(request).All(s => s.Kind == LocationKind.Registry)
                ? await DryRun.PrintAsync(lines, [], access, request.SourceRegistry, mode, cancellationToken).ConfigureAwait(false)
                : throw new InvalidInputException("--dry-run shows what registries hold; these sources are not registry images");
        }

        var logger = new StderrLogger(parseResult.GetValue(options.Debug) ? LogLevel.Debug : mode.Quiet ? LogLevel.Error : LogLevel.Warning);
        string Where(int position) => list is null ? string.Empty : $"line {list[position - 1].LineNumber}: ";
        var bytesLines = new ByteLines(mode);
        var results = new ListOrder();
        var intoRegistry = request.Target is not null || request.As is not null || ImageLocation.ParseDestination(request.Destination!).Kind == LocationKind.Registry;
        CopyResult result;
        try
        {
            result = await Images.CopyAsync(request, new InOrderProgress<TransferEvent>(e => Report(e, mode, intoRegistry, Where, bytesLines, results)), access, logger, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            results.Flush();
        }

        if (result.Output is { } output && mode.TalksInText)
        {
            Console.Error.WriteLine($"ferry: wrote {output} ({Units.Bytes(result.ArchiveBytes)})");
        }

        EventText.Converted(result.Converted, mode);
        var failedWhere = result.Failed.Count > 0
            ? await FailedList.WriteAsync(parseResult.GetValue(options.Failed)!, result.Failed.Where(f => f.Position <= lines.Count).Select(f => lines[f.Position - 1]), mode, cancellationToken).ConfigureAwait(false)
            : string.Empty;
        return RunOutcome.Report("copied", result.Images.Count, result.Failed.Count, result.Images.Sum(i => i.UploadedBytes), request.Target ?? request.As ?? request.Destination!, failedWhere, mode, result.Unchanged.Count);
    }

    /// <summary>Without <c>--to</c> or <c>--as</c>, the last argument is the destination (checked here, before any list is read).</summary>
    private static (List<string> Sources, string? Destination) SplitDestination(ParseResult parseResult, CopyOptions options)
    {
        var arguments = (parseResult.GetValue(options.Images) ?? []).ToList();
        var target = parseResult.GetValue(options.To);
        var name = parseResult.GetValue(options.As);
        if (target is not null && name is not null)
        {
            throw new InvalidInputException("--to and --as are exclusive: --as names the one image's full target");
        }

        if (target is not null || name is not null)
        {
            return (arguments, null);
        }

        if (arguments.Count == 0 || (arguments.Count == 1 && parseResult.GetValue(options.File) is null))
        {
            throw new InvalidInputException("say where to copy: ferry copy SOURCE DESTINATION, --to REGISTRY[/PREFIX], or --as REGISTRY/REPOSITORY:TAG (see 'ferry copy --help')");
        }

        var destination = arguments[^1];
        arguments.RemoveAt(arguments.Count - 1);
        _ = ImageLocation.ParseDestination(destination);
        return (arguments, destination);
    }

    /// <summary>The library request and the source registry's access, from the bound options.</summary>
    private static IEnumerable<ImageLocation> SourcesOf(CopyRequest request) => request.Images.Select(i => ImageLocation.ParseSource(i));

    private static (CopyRequest Request, RegistryAccess Access) BuildRequest(ParseResult parseResult, CopyOptions options, List<string> lines, string? destinationText, Bundles.BundleFile? bundle)
    {
        var sources = lines.Select(l => ImageLocation.ParseSource(l)).ToList();
        var destination = destinationText is null ? null : ImageLocation.ParseDestination(destinationText);
        var usesEngine = sources.Any(s => s.Kind == LocationKind.Daemon) || destination?.Kind == LocationKind.Daemon;
        if (!usesEngine && options.Engine.NamesAnEngine(parseResult))
        {
            throw new InvalidInputException("-H, --context and --machine choose the Docker Engine of a docker-daemon: source or destination; neither is one here");
        }

        var target = parseResult.GetValue(options.To);
        var name = parseResult.GetValue(options.As);
        var sourceRegistry = parseResult.GetValue(options.SourceRegistry);

        // Explicit credentials (--username, --ilogin) belong to the source's registry; --dest-* to the destination's.
        var credentialRegistry = RegistryAccessOptions.CredentialRegistry(sourceRegistry, sources.Where(s => s.Kind == LocationKind.Registry).Select(s => s.Reference!));
        var credentialSources = options.Access.Sources(parseResult, options.Access.ExplicitCredential(parseResult, credentialRegistry), credentialRegistry);
        var count = SaveCommand.Range(parseResult.GetValue(options.Transfers), 1, 32, "--max-concurrent-transfers");
        var clientOptions = options.Rate.ApplyTo(options.Access.ClientOptions(parseResult, count + 4), parseResult) with { Cache = options.Cache.Open(parseResult) };
        if (bundle is not null)
        {
            // The bundle's registries (its sources) bring their own credentials and TLS settings.
            credentialSources = Bundles.BundleAccess.Credentials(bundle, credentialSources);
            clientOptions = Bundles.BundleAccess.Options(bundle, clientOptions);
        }

        var credentials = new DefaultCredentialProvider(credentialSources);
        var destinationRegistry = DestinationRegistry(target, name, destination);
        if (options.Destination.Given(parseResult) && destinationRegistry is null)
        {
            throw new InvalidInputException("--dest-username, --dest-password and --dest-authfile are for a destination registry; this destination is not one");
        }

        var destinationSources = destinationRegistry is null ? null : options.Destination.Sources(parseResult, destinationRegistry, options.Access.ReadsStdin(parseResult));
        var request = new CopyRequest
        {
            Images = lines,
            Target = target,
            As = name,
            Destination = destinationText,
            Platforms = options.Platforms.Selection(parseResult) ?? bundle?.PlatformSelection,
            Jobs = SaveCommand.Range(parseResult.GetValue(options.Jobs), 1, 20, "--jobs"),
            MaxConcurrentTransfers = count,
            SourceRegistry = sourceRegistry,
            ContinueOnError = true,
            Force = parseResult.GetValue(options.Force),
            Referrers = !parseResult.GetValue(options.NoReferrers) && bundle?.CarrySignatures != false,
            ManifestFormat = options.Format.Value(parseResult),
            Limits = options.Reading.Limits(parseResult),
            DestinationAccess = destinationSources is null ? null : new RegistryAccess(new DefaultCredentialProvider(destinationSources), clientOptions),
            Daemon = usesEngine ? DockerEndpointResolver.Resolve(options.Engine.Endpoint(parseResult)) : null,
        };
        return (request, new RegistryAccess(credentials, clientOptions));
    }

    /// <summary>The registry the destination names, if it is one.</summary>
    private static string? DestinationRegistry(string? target, string? name, ImageLocation? destination) =>
        target is not null ? RegistryTarget.Parse(target).Registry
        : name is not null ? ImageReference.Parse(name).Registry
        : destination is { Kind: LocationKind.Registry, Reference: { } reference } ? (ImageReference.TryParse(reference, out var full, out _) ? full!.Registry : RegistryTarget.Parse(reference).Registry)
        : null;

    private static void Report(TransferEvent transferEvent, OutputMode mode, bool intoRegistry, Func<int, string> where, ByteLines bytesLines, ListOrder results)
    {
        switch (transferEvent)
        {
            case BytesTransferredEvent e:
                bytesLines.Add(e.Bytes);
                break;
            case ImagePushedEvent { Pushed: var pushed, Image: var image }:
                var copied = new LoadedImage(image.Image.Reference.ToString(), pushed.Target, pushed.Digest, false, pushed.Uploaded, pushed.Mounted, pushed.Existing, pushed.UploadedBytes);
                results.Add(image.Position, () => RunOutcome.Pushed("image-copied", copied, mode));
                break;
            case ImageUnchangedEvent { Image: var same }:
                results.Add(same.Position, () => RunOutcome.Unchanged(same, mode));
                break;
            case ImageWrittenEvent { Image: var saved, Position: var position } when !intoRegistry:
                results.Add(position, () => RunOutcome.Written("image-copied", saved, mode));
                break;
            case DaemonMessageEvent { Line: var line } when mode.TalksInText:
                Console.Error.WriteLine($"ferry: daemon: {TerminalText.Escape(line)}");
                break;
            case ImageFailedEvent { Failure: var failure } when mode.Json:
                results.Add(failure.Position, () => JsonLines.Write("image-failed", w =>
                {
                    w.WriteNumber("position", failure.Position);
                    w.WriteString("image", failure.Image);
                    w.WriteString("error", failure.Reason);
                    w.WriteString("kind", JsonLines.Name(failure.Kind));
                }));
                break;
            case ImageFailedEvent { Failure: var failure }:
                results.Add(failure.Position, () => ErrorPresenter.WriteError(where(failure.Position) + EventText.ImageFailure(failure.Image, failure.Reason), mode));
                break;
        }
    }
}
