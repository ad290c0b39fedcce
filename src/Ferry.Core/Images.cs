using Ferry.Archives.Compression;
using Ferry.Copying;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Inspecting;
using Ferry.Loading;
using Ferry.Reading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Ferry.Transfer;
using Ferry.Transfer.Sinks;
using Ferry.Transfer.Sources;
using Microsoft.Extensions.Logging;

namespace Ferry;

/// <summary>
/// The library's front door: save, copy, load, inspect and verify in one call each, wired the way the <c>ferry</c> CLI
/// wires them (credentials from Docker's and the containers tools' files, certs.d TLS, retries). Every call is one run
/// of the <see cref="TransferEngine"/> from a source to a sink. Progress arrives as typed events through
/// <see cref="IProgress{T}"/>, detail through <see cref="ILogger"/>; failures are <see cref="FerryException"/>s,
/// per-image results in bulk runs.
/// </summary>
/// <example>
/// <code>
/// var result = await Images.SaveAsync(new SaveRequest { Images = ["nginx:1.27"], Output = "nginx.tar" });
/// Console.WriteLine(result.Executed ? $"saved {result.ArchiveBytes} bytes" : "up to date");
/// </code>
/// </example>
public static class Images
{
    /// <summary>Saves images from registries (or from <see cref="SaveRequest.Daemon"/>) into one archive.</summary>
    /// <param name="request">What to save and where.</param>
    /// <param name="progress">Typed progress events, in order per image.</param>
    /// <param name="access">How to reach registries: credentials and client options; defaults as the CLI's.</param>
    /// <param name="logger">Detail and warnings (never secrets).</param>
    /// <param name="cancellationToken">
    /// Cancels the save. The output is never left half-written; the blobs already downloaded into a tar file are kept
    /// beside it (<c>.NAME.ferry-resume</c> and its journal, said by a <see cref="ResumeKeptEvent"/>) so the same request
    /// continues from there. <see cref="SaveRequest.Resume"/> = <see langword="false"/> keeps nothing.
    /// </param>
    /// <returns>What was saved; <see cref="SaveResult.Executed"/> is false when the output was already up to date.</returns>
    public static async Task<SaveResult> SaveAsync(SaveRequest request, IProgress<TransferEvent>? progress = null, RegistryAccess? access = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Images.Count == 0 && request.Files.Count == 0)
        {
            throw new InvalidInputException("no image to save");
        }

        if (request.Files.Count > 0 && request.Daemon is not null)
        {
            throw new InvalidInputException("plain files (Files) are carried beside registry images; a save from a Docker Engine holds images only");
        }

        if (request.Checksums && request.OutputStream is not null)
        {
            throw new InvalidInputException("checksums (Checksums) need an output file: a stream has no file to sit beside");
        }

        access ??= RegistryAccess.Default;
        var sink = new ArchiveSink(new ArchiveTarget { Path = request.Output, Stream = request.OutputStream, Format = request.Format, Compression = request.Compression, SplitSize = request.SplitSize, Resume = request.Resume, SignKey = request.SignKey });
        var files = FilesOf(request.Files);
        var transfer = new TransferRequest
        {
            Images = [.. request.Images, .. files.Keys],
            Platforms = request.Platforms,
            ManifestFormat = request.ManifestFormat,
            Jobs = request.Jobs,
            MaxConcurrentTransfers = request.MaxConcurrentDownloads,
            ContinueOnError = request.ContinueOnError,
            Exclude = request.Exclude,
            ExcludeArchives = request.ExcludeArchives,
            Rename = request.Rename,

            // An archive that is up to date but unsigned is not what a signed save asks for.
            Force = request.Force || request.SignKey is not null,
        };
        var engine = new TransferEngine(logger);
        TransferResult<ArchiveReport> result;
        if (request.Daemon is { } endpoint)
        {
            if (request.CompressLayers && (!sink.CanAppend || transfer.IsPartial))
            {
                throw new InvalidInputException("compressing layers (CompressLayers) needs a daemon source and an uncompressed tar file as output (no outer compression, no directory, not a stream, not partial)");
            }

            using var client = new DockerEngineClient(endpoint);
            using var daemon = new DaemonSource(client, request.CompressLayers);
            result = await engine.RunAsync(transfer, daemon, sink, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var registry = new RegistryClient(access.Credentials, access.Options, logger);
            transfer = transfer with { LinkCache = access.Options.Cache };
            IImageSource source = new RegistrySource(registry, request.SourceRegistry) { Referrers = request.Referrers };
            result = await engine.RunAsync(transfer, files.Count > 0 ? new CombinedSource(source, new FileArtifactSource(files)) : source, sink, progress, cancellationToken).ConfigureAwait(false);
        }

        return await ArchiveResultAsync(result, result.Plan.StreamedBytes, request.Checksums, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Plain files under the keys a request names them by (<c>file:PATH</c>); the same path twice is one file.</summary>
    private static Dictionary<string, Files.FileArtifact> FilesOf(IReadOnlyList<Files.FileArtifact> files)
    {
        var byKey = new Dictionary<string, Files.FileArtifact>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            var key = FileArtifactSource.KeyOf(file);
            if (byKey.TryGetValue(key, out var other) && other != file)
            {
                throw new InvalidInputException($"{file.Path} is given twice, as {other.Name} and as {file.Name}: carry it once");
            }

            byKey[key] = file;
        }

        return byKey;
    }

    /// <summary>
    /// Merges archives into one: every image of every archive under its name, every blob once (a base shared by the
    /// bundles is stored once), every digest unchanged. The same name at the same digest in two archives is one image;
    /// the same name at different digests is refused. Layers a partial archive leaves out stay left out.
    /// </summary>
    /// <param name="request">The archives and the output.</param>
    /// <param name="progress">Typed progress events, as for a save.</param>
    /// <param name="logger">Detail and warnings.</param>
    /// <param name="cancellationToken">Cancels the merge; nothing partial is left behind.</param>
    /// <returns>What was written.</returns>
    public static async Task<SaveResult> MergeAsync(MergeRequest request, IProgress<TransferEvent>? progress = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Archives.Count == 0)
        {
            throw new InvalidInputException("no archive to merge");
        }

        var sink = new ArchiveSink(new ArchiveTarget { Path = request.Output, Format = request.Format, Compression = request.Compression, SplitSize = request.SplitSize });
        using var source = await ArchiveSource.OpenAsync(request.Archives, new ArchiveSelection { Limits = request.Limits, NameConflictAdvice = "a merged archive holds one image per name" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var key in source.Keys)
        {
            var (name, digest) = source.Identity(key);
            if (name is null)
            {
                throw new InvalidInputException($"{source.ArchiveOf(key)}: image {digest.Short} has no name; a merged archive names every image (load it under a name, or save it again by name, first)");
            }
        }

        var transfer = new TransferRequest { Images = source.Keys, Platforms = PlatformSelection.All, Force = request.Force, ManifestFormat = request.ManifestFormat };
        var result = await new TransferEngine(logger).RunAsync(transfer, source, sink, progress, cancellationToken).ConfigureAwait(false);
        return await ArchiveResultAsync(result, 0, request.Checksums, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What a run into an <see cref="ArchiveSink"/> wrote, with its checksum file when asked for.</summary>
    private static async Task<SaveResult> ArchiveResultAsync(TransferResult<ArchiveReport> result, long downloadedBytes, bool checksums, CancellationToken cancellationToken)
    {
        var report = result.Report;
        return new SaveResult(report?.Images ?? [], report?.ArchiveBytes ?? 0, downloadedBytes, report?.Output, result.Failed)
        {
            Executed = result.Executed,
            Converted = result.Converted,
            Omitted = result.Plan.Omitted,
            UniqueBytes = result.Plan.UniqueBytes,
            Parts = report?.Parts ?? [],
            ChecksumFile = checksums ? await ChecksumsAsync(report, result.Executed, cancellationToken).ConfigureAwait(false) : null,
        };
    }

    /// <summary>Writes the checksum file of a finished archive (of an up-to-date one only when it has none).</summary>
    private static async Task<string?> ChecksumsAsync(ArchiveReport? report, bool written, CancellationToken cancellationToken)
    {
        if (report?.Output is not { } output)
        {
            return null;
        }

        if (report.Parts.Count > 0)
        {
            // One file for the split archive, a line per part: bundle.tar.sha256 beside bundle.tar.000, .001, …
            return await ChecksumFile.WriteAsync(report.Parts, report.Parts[0][..^4] + ".sha256", cancellationToken).ConfigureAwait(false);
        }

        var existing = Path.GetFullPath(output.TrimEnd('/')) + ".sha256";
        return written || !File.Exists(existing) ? await ChecksumFile.WriteAsync(output, cancellationToken).ConfigureAwait(false) : existing;
    }

    /// <summary>
    /// Copies images from any source to any destination, each blob streamed once and verified, every digest unchanged
    /// (unless <see cref="CopyRequest.ManifestFormat"/> rewrites manifests): registry, Docker Engine or archive into
    /// registry, Engine or archive — all nine pairs, one engine run. Registry to registry never touches the disk (blobs
    /// are mounted within one registry); registry to Engine needs no <c>docker pull</c>; Engine to registry no archive.
    /// </summary>
    /// <param name="request">What to copy where.</param>
    /// <param name="progress">Typed progress events (<see cref="ImagePushedEvent"/>, <see cref="ImageWrittenEvent"/> or Engine lines per image).</param>
    /// <param name="access">How to reach the source registry (and the destination's unless <see cref="CopyRequest.DestinationAccess"/>).</param>
    /// <param name="logger">Detail and warnings.</param>
    /// <param name="cancellationToken">Cancels the copy; an archive destination is left untouched.</param>
    /// <returns>What arrived and what failed.</returns>
    public static async Task<CopyResult> CopyAsync(CopyRequest request, IProgress<TransferEvent>? progress = null, RegistryAccess? access = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        access ??= RegistryAccess.Default;
        if (request.Images.Count == 0)
        {
            throw new InvalidInputException("no image to copy");
        }

        var named = new[] { request.Target, request.Destination, request.As }.Count(x => x is not null);
        if (named != 1)
        {
            throw new InvalidInputException(named == 0
                ? "say where to copy: a destination (docker://REF, docker-daemon:REF, docker-archive:PATH, oci-archive:PATH, oci:DIR), a target registry, or the one image's full name (As)"
                : "a destination, a target registry and a full name (As) are exclusive: give one");
        }

        var sources = request.Images.Select(i => ImageLocation.ParseSource(i, request.Transports)).ToList();
        var destination = request.Destination is { } text ? ImageLocation.ParseDestination(text, request.Transports) : new ImageLocation(LocationKind.Registry, "docker", null, request.As ?? request.Target);
        var (singleName, target) = DestinationNames(request, sources, destination);
        var isArchiveSource = sources[0].Kind == LocationKind.Archive;
        if (singleName is not null && !isArchiveSource && sources.Count != 1 && sources[0].Kind != LocationKind.Registered)
        {
            throw new InvalidInputException($"{singleName} names one image, but {sources.Count} are given");
        }

        using var opener = new LocationOpener(access, request.DestinationAccess, request.Daemon, logger, request.Transports);
        var opened = await opener.OpenSourceAsync(sources, request.SourceRegistry, new ArchiveSelection { Referrers = request.Referrers && destination.Kind != LocationKind.Daemon, As = isArchiveSource ? singleName : null, Limits = request.Limits }, cancellationToken).ConfigureAwait(false);
        if (request.Files.Count > 0)
        {
            // Plain files go beside the images, as artifacts of their own (a bundle file's files:).
            var files = FilesOf(request.Files);
            var describe = opened.Describe;
            opened = opened with { Source = new CombinedSource(opened.Source, new FileArtifactSource(files)), Images = [.. opened.Images, .. files.Keys], Describe = k => files.TryGetValue(k, out var f) ? f.Path : describe(k) };
        }

        var transfer = new TransferRequest
        {
            Images = opened.Images,
            Platforms = request.Platforms,
            Jobs = request.Jobs,
            MaxConcurrentTransfers = request.MaxConcurrentTransfers,
            ContinueOnError = request.ContinueOnError,
            Force = request.Force,
            Rename = singleName is not null && !isArchiveSource ? _ => ImageReference.Parse(singleName) : request.Rename,
            ManifestFormat = request.ManifestFormat,
            LinkCache = sources[0].Kind == LocationKind.Registry ? access.Options.Cache : null,
        };
        var result = await new TransferEngine(logger).RunAsync(transfer, opened.Source, opener.OpenSink(destination, target, request.Limits ?? ArchiveLimits.Default), progress, cancellationToken).ConfigureAwait(false);
        return CopyOutcome(request, result, opened);
    }

    /// <summary>
    /// The destination name of the one image (<c>--as</c>, or a destination reference that names an image), and where
    /// images go in a registry otherwise. <c>docker://X</c> names one image when X has a tag or digest or when one
    /// registry or Engine image is copied; otherwise X is a registry prefix, as a target registry is.
    /// </summary>
    private static (string? SingleName, Func<ImageReference, ImageReference> Target) DestinationNames(CopyRequest request, IReadOnlyList<ImageLocation> sources, ImageLocation destination)
    {
        if (request.Target is { } prefix)
        {
            return (null, RegistryTarget.Parse(prefix).For);
        }

        if (request.As is { } nameAs)
        {
            return (ImageReference.Parse(nameAs).ToString(), r => r);
        }

        if (destination.Kind == LocationKind.Registered)
        {
            return (null, r => r); // the transport reads its own reference
        }

        if (destination.Kind != LocationKind.Registry)
        {
            return (destination.Reference is { } reference ? ImageReference.Parse(reference).ToString() : null, r => r);
        }

        var text = destination.Reference!;
        var namesOne = Listing.RepositoryTags.NamesItsOwnTag(text) || (sources.Count == 1 && sources[0].Kind != LocationKind.Archive);
        return namesOne ? (ImageReference.Parse(text).ToString(), r => r) : (null, RegistryTarget.Parse(text).For);
    }

    /// <summary>
    /// What a copy did, from the report of whichever sink its destination opened: the one place that tells the kinds
    /// apart, since a copy's destination is chosen at run time.
    /// </summary>
    private static CopyResult CopyOutcome(CopyRequest request, TransferResult result, OpenedSource opened)
    {
        var failed = result.Failed.Select(f => f with { Image = opened.Describe(f.Image) }).ToList();
        if (!request.ContinueOnError && failed.Count > 0)
        {
            throw new RegistryException($"{failed[0].Image}: {failed[0].Reason}");
        }

        var unchanged = result.Unchanged.Select(u => u with { Image = opened.Describe(u.Image) }).ToList();
        var failedPositions = result.Failed.Select(f => f.Position).ToHashSet();
        IReadOnlyList<LoadedImage> Delivered() => result.Plan.Images.Where(p => !failedPositions.Contains(p.Position))
            .Select(p => new LoadedImage(opened.Describe(p.Requested), p.Image.Reference, p.Image.Top.Digest, false, 0, 0, 0, 0)).ToList();
        return result.Report switch
        {
            RegistryReport registry => new CopyResult(registry.Images.Select(p => Loaded(p, opened.Describe(opened.Images[p.Position - 1]), builtFromLayers: false)).ToList(), failed) { Converted = result.Converted, Unchanged = unchanged },
            ArchiveReport archive => new CopyResult(Delivered(), failed) { Output = archive.Output, ArchiveBytes = archive.ArchiveBytes, Converted = result.Converted },
            DaemonReport daemon => new CopyResult(Delivered(), failed) { DaemonLoaded = daemon.Loaded, Converted = result.Converted, Unchanged = unchanged },
            _ => new CopyResult(Delivered(), failed) { Converted = result.Converted, Unchanged = unchanged }, // nothing reached a sink, or a registered transport's
        };
    }

    /// <summary>Pushes the images of archives into a registry, digests unchanged.</summary>
    /// <param name="request">The archives and the target.</param>
    /// <param name="progress">An event per image.</param>
    /// <param name="access">How to reach the registry.</param>
    /// <param name="logger">Detail and warnings.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What was pushed and what failed.</returns>
    public static async Task<LoadResult> LoadAsync(LoadRequest request, IProgress<LoadEvent>? progress = null, RegistryAccess? access = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if ((request.Target is null) == (request.As is null))
        {
            throw new InvalidInputException(request.Target is null ? "say where to load: a target registry[/prefix], or the full name of the one image" : "a target registry and a full image name are exclusive");
        }

        access ??= RegistryAccess.Default;
        Func<References.ImageReference, References.ImageReference> targetFor = request.As is { } nameAs ? _ => References.ImageReference.Parse(nameAs) : RegistryTarget.Parse(request.Target!).For;
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        using var source = await ArchiveSource.OpenAsync(request.Archives, new ArchiveSelection { Images = request.Images, As = request.As, Referrers = request.Referrers || request.RequireSignature is not null, Limits = request.Limits }, request.Stdin, cancellationToken).ConfigureAwait(false);
        var transfer = new TransferRequest
        {
            Images = source.Keys,
            Platforms = request.Platforms,
            Jobs = Math.Clamp(request.Jobs, 1, 20),
            MaxConcurrentTransfers = Math.Clamp(request.MaxConcurrentUploads, 1, 32),
            ContinueOnError = true,
            Force = request.Force,
            ManifestFormat = request.ManifestFormat,
            Admit = request.RequireSignature is { } policy ? (key, image, token) => source.CheckSignatureAsync(key, image, policy, token) : null,
        };
        var events = progress is null ? null : new LoadProgress(progress, source);
        var result = await new TransferEngine(logger).RunAsync(transfer, source, new RegistrySink(registry, targetFor, request.MountFrom) { PushReferrers = request.Referrers }, events, cancellationToken).ConfigureAwait(false);
        var report = result.Report;
        var loaded = (report?.Images ?? []).Select(p => LoadProgress.Loaded(p, source, source.Keys[p.Position - 1])).ToList();
        var failed = result.Failed.Select(f => LoadProgress.Failure(f, source)).ToList();
        if (!request.ContinueOnError && failed.Count > 0)
        {
            throw new RegistryException($"{failed.Count} of {loaded.Count + failed.Count} image(s) failed to load; the first, {failed[0].Source}: {failed[0].Message}");
        }

        return new LoadResult(loaded, failed) { Converted = result.Converted, Unchanged = [.. result.Unchanged.Select(u => u with { Image = source.Describe(u.Image) })] };
    }

    /// <summary>Loads the images of archives into a Docker Engine (each image's manifest for the daemon's platform).</summary>
    /// <param name="archives">The archives (<c>-</c> reads <paramref name="stdin"/>).</param>
    /// <param name="daemon">The Engine; <see langword="null"/> resolves it as the docker CLI does.</param>
    /// <param name="progress">The daemon's progress lines.</param>
    /// <param name="stdin">What an archive named <c>-</c> reads.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What the daemon loaded and what could not be sent.</returns>
    public static Task<DaemonLoadResult> LoadIntoDaemonAsync(IReadOnlyList<string> archives, DockerEndpoint? daemon = null, IProgress<string>? progress = null, Stream? stdin = null, CancellationToken cancellationToken = default) =>
        LoadIntoDaemonAsync(archives, [], daemon, progress, stdin, cancellationToken);

    /// <summary>Loads some images of archives into a Docker Engine.</summary>
    /// <param name="archives">The archives (<c>-</c> reads <paramref name="stdin"/>).</param>
    /// <param name="images">Only these images (names, or top-manifest digests for unnamed ones); every image when empty.</param>
    /// <param name="daemon">The Engine; <see langword="null"/> resolves it as the docker CLI does.</param>
    /// <param name="progress">The daemon's progress lines.</param>
    /// <param name="stdin">What an archive named <c>-</c> reads.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What the daemon loaded and what could not be sent.</returns>
    public static Task<DaemonLoadResult> LoadIntoDaemonAsync(IReadOnlyList<string> archives, IReadOnlyList<string> images, DockerEndpoint? daemon = null, IProgress<string>? progress = null, Stream? stdin = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archives);
        ArgumentNullException.ThrowIfNull(images);
        return LoadIntoDaemonAsync(new LoadRequest { Archives = archives, Images = images, Stdin = stdin }, daemon, progress, cancellationToken);
    }

    /// <summary>
    /// Loads images of archives into a Docker Engine, one platform of each: <see cref="LoadRequest.Platforms"/> when it
    /// names one, else the Engine's own when the image has it, else the one the image has (as <c>docker load</c>).
    /// <see cref="LoadRequest.As"/> names the one image (also an unnamed one); <see cref="LoadRequest.RequireSignature"/>
    /// refuses unsigned images before anything is sent. Registry-only settings (target, mount source, referrers) are refused.
    /// </summary>
    /// <param name="request">The archives, images, platform, name and signature policy.</param>
    /// <param name="daemon">The Engine; <see langword="null"/> resolves it as the docker CLI does.</param>
    /// <param name="progress">The daemon's progress lines.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What the daemon loaded and what could not be sent.</returns>
    public static async Task<DaemonLoadResult> LoadIntoDaemonAsync(LoadRequest request, DockerEndpoint? daemon = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Target is not null || request.MountFrom is not null)
        {
            throw new InvalidInputException("a target registry and a mount source (Target, MountFrom) are for registries; a Docker Engine is loaded as it is");
        }

        using var engine = new DockerEngineClient(daemon ?? DockerEndpointResolver.Resolve(new DockerEndpointOptions()));
        await engine.EnsureReachableAsync(cancellationToken).ConfigureAwait(false); // an unreachable Engine is said before any archive is read
        using var source = await ArchiveSource.OpenAsync(request.Archives, new ArchiveSelection { Images = request.Images, As = request.As, Referrers = request.RequireSignature is not null, Limits = request.Limits }, request.Stdin, cancellationToken).ConfigureAwait(false);
        var transfer = new TransferRequest
        {
            Images = source.Keys,
            Platforms = request.Platforms,
            ContinueOnError = true,
            Admit = request.RequireSignature is { } policy ? (key, image, token) => source.CheckSignatureAsync(key, image, policy, token) : null,
        };
        var lines = progress is null ? null : new DaemonLines(progress);
        var result = await new TransferEngine().RunAsync(transfer, source, new DaemonSink(engine, request.Limits), lines, cancellationToken).ConfigureAwait(false);
        var report = result.Report;
        return new DaemonLoadResult(report?.Loaded ?? [], result.Failed.Select(f => LoadProgress.Failure(f, source)).ToList());
    }

    /// <summary>
    /// Writes the files of an artifact out of an archive, without a registry, as <c>oras pull</c> writes them: each
    /// layer under its title annotation, into <paramref name="directory"/>, checked against its digest before it appears.
    /// </summary>
    /// <param name="archive">Any archive Ferry reads.</param>
    /// <param name="name">The artifact's name in it (<c>files/app.iso:1.0</c>).</param>
    /// <param name="directory">Where the files go (made when missing).</param>
    /// <param name="overwrite">Replace files that exist; otherwise an existing file is an error and nothing is written.</param>
    /// <param name="limits">How far the archive may go (<see langword="null"/>: <see cref="Reading.ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the extraction; nothing half-written is left.</param>
    /// <returns>The files written.</returns>
    public static Task<IReadOnlyList<Files.ExtractedFile>> ExtractAsync(string archive, string name, string directory, bool overwrite = false, Reading.ArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(directory);
        return Files.FileExtractor.ExtractAsync(archive, name, directory, overwrite, limits, cancellationToken);
    }

    /// <summary>Lists an archive's images, platforms, sizes and layers.</summary>
    /// <param name="path">Any archive Ferry reads.</param>
    /// <param name="cancellationToken">Cancels the inspection.</param>
    /// <returns>What it holds.</returns>
    public static Task<InspectResult> InspectAsync(string path, CancellationToken cancellationToken = default) => ArchiveInspector.InspectAsync(path, cancellationToken);

    /// <summary>
    /// Describes an image in a registry without downloading its layers (as <c>skopeo inspect docker://</c> does): its
    /// platforms, manifest digests, layer sizes, and what each config says (env, entrypoint, labels, ports).
    /// </summary>
    /// <param name="reference">The image, <c>registry/repository:tag</c> or <c>@digest</c>.</param>
    /// <param name="platforms">The platforms to describe (default: all of them).</param>
    /// <param name="access">How to reach the registry.</param>
    /// <param name="logger">Detail and warnings.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The image.</returns>
    public static async Task<RemoteImage> InspectImageAsync(string reference, PlatformSelection? platforms = null, RegistryAccess? access = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        access ??= RegistryAccess.Default;
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        var resolved = await new RegistrySource(registry) { Referrers = false }.ResolveAsync(reference, platforms ?? PlatformSelection.All, cancellationToken).ConfigureAwait(false);
        return new RemoteImage(
            resolved.Reference,
            resolved.Top.Digest,
            resolved.Top.MediaType,
            [.. resolved.Platforms.Select(p => new RemotePlatformImage(p.Platform, p.Manifest.Digest, p.Manifest.MediaType, p.Manifest.Layers, ImageConfigSummary.Parse(p.Config.Span)))]);
    }

    /// <summary>Checks every blob's digest and size and that every reference resolves.</summary>
    /// <param name="path">Any archive Ferry reads.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>The images and every problem found.</returns>
    public static Task<VerifyResult> VerifyAsync(string path, CancellationToken cancellationToken = default) => ArchiveVerifier.VerifyAsync(path, cancellationToken);

    private static LoadedImage Loaded(PushedImage pushed, string source, bool builtFromLayers) =>
        new(source, pushed.Target, pushed.Digest, builtFromLayers, pushed.Uploaded, pushed.Mounted, pushed.Existing, pushed.UploadedBytes);

    /// <summary>Turns the engine's events of a load into load events (names and archives of the images).</summary>
    private sealed class LoadProgress(IProgress<LoadEvent> inner, ArchiveSource source) : IProgress<TransferEvent>
    {
        public static LoadedImage Loaded(PushedImage pushed, ArchiveSource source, string key) => Images.Loaded(pushed, source.Describe(key), source.IsBuiltFromLayers(key));

        public static LoadFailure Failure(FailedImage failure, ArchiveSource source) =>
            new(source.Describe(failure.Image), source.ArchiveOf(failure.Image), failure.Reason) { Selector = source.SelectorOf(failure.Image), Kind = failure.Kind };

        public void Report(TransferEvent value)
        {
            switch (value)
            {
                case ImagePushedEvent e:
                    inner.Report(new ImageLoadedEvent(Loaded(e.Pushed, source, e.Image.Requested)));
                    break;
                case ImageFailedEvent e:
                    inner.Report(new ImageLoadFailedEvent(Failure(e.Failure, source)));
                    break;
                case ImageUnchangedEvent e:
                    inner.Report(new ImageAlreadyLoadedEvent(e.Image with { Image = source.Describe(e.Image.Image) }));
                    break;
                case BytesTransferredEvent e:
                    inner.Report(new LoadBytesEvent(e.Bytes));
                    break;
            }
        }
    }

    private sealed class DaemonLines(IProgress<string> inner) : IProgress<TransferEvent>
    {
        public void Report(TransferEvent value)
        {
            if (value is DaemonMessageEvent e)
            {
                inner.Report(e.Line);
            }
        }
    }

    /// <summary>
    /// Expands the lines of an image list that name a repository (no tag, no digest) into the tags a selection takes
    /// (<c>--all-tags</c>, <c>--tag-regex</c>, <c>--tag-semver</c>, <c>--tag-exclude</c>, <c>--newest</c>), listing each
    /// repository once; lines with their own tag or digest stay as they are.
    /// </summary>
    /// <param name="images">The lines.</param>
    /// <param name="selection">Which tags.</param>
    /// <param name="access">How to reach the registries.</param>
    /// <param name="sourceRegistry">List at this registry instead (as <see cref="SaveRequest.SourceRegistry"/>).</param>
    /// <param name="logger">Detail.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The images, and what each repository became.</returns>
    /// <exception cref="Errors.InvalidInputException">A selection that does not parse.</exception>
    /// <exception cref="Errors.RegistryException">A registry that does not list a repository's tags.</exception>
    public static async Task<Listing.TagExpansion> ExpandTagsAsync(IReadOnlyList<string> images, TagSelection selection, RegistryAccess access, string? sourceRegistry = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(selection);
        ArgumentNullException.ThrowIfNull(access);
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        return await Listing.RepositoryTags.ExpandAsync(registry, images, selection, sourceRegistry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The images a bundle file names (<see cref="Bundles.BundleFile"/>): its named tags and digests, and the tags each
    /// selection takes from its repository's listing (each repository listed once), with the bundle's credentials and
    /// TLS settings per registry.
    /// </summary>
    /// <param name="bundle">The bundle file.</param>
    /// <param name="access">How to reach the registries (the bundle's settings are laid over it).</param>
    /// <param name="logger">Detail.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The images in file order, each once, and the renames the file asks for.</returns>
    public static async Task<Bundles.BundleExpansion> ExpandBundleAsync(Bundles.BundleFile bundle, RegistryAccess access, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(access);
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        return await Bundles.BundleExpansion.ExpandAsync(bundle, registry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// What each image's tag points at now — one <c>HEAD</c> per image, no blob read — for a dry run that shows what a
    /// save or copy would take. An image that cannot be told is listed with why, the others go on.
    /// </summary>
    /// <param name="images">The images (<c>registry/repo:tag</c> or <c>@digest</c>).</param>
    /// <param name="access">How to reach the registries.</param>
    /// <param name="sourceRegistry">Ask this registry instead (as <see cref="SaveRequest.SourceRegistry"/>).</param>
    /// <param name="jobs">How many at once.</param>
    /// <param name="logger">Detail.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>One line per image, in the order given.</returns>
    public static async Task<IReadOnlyList<Listing.ImageDigest>> DigestsAsync(IReadOnlyList<string> images, RegistryAccess access, string? sourceRegistry = null, int jobs = 8, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(access);
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        var results = new Listing.ImageDigest[images.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, images.Count), new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(jobs, 1, 32), CancellationToken = cancellationToken }, async (i, token) =>
        {
            try
            {
                var name = ImageLocation.RegistryReference(images[i]);
                var source = sourceRegistry is { Length: > 0 } other ? name.WithRegistry(other) : name;
                results[i] = await registry.ManifestDigestAsync(source, source.ManifestReference, token).ConfigureAwait(false) is { } digest
                    ? new Listing.ImageDigest(images[i], digest, null)
                    : new Listing.ImageDigest(images[i], null, new FailedImage(images[i], i + 1, $"{source}: no such manifest at the registry") { Kind = FailureKind.NotFound });
            }
            catch (FerryException ex)
            {
                results[i] = new Listing.ImageDigest(images[i], null, FailedImage.From(images[i], i + 1, ex));
            }
        }).ConfigureAwait(false);
        return results;
    }

    /// <summary>Lists a repository's tags (all, or those a selection takes), with their digests when asked.</summary>
    /// <param name="repository">The repository (<c>registry/path</c>, no tag).</param>
    /// <param name="selection">Which tags; <see langword="null"/> for all.</param>
    /// <param name="digests">Whether to look up each tag's digest (one manifest request per tag).</param>
    /// <param name="access">How to reach the registry.</param>
    /// <param name="logger">Detail.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The tags, in the selection's order (versions by version), else as listed.</returns>
    public static async Task<IReadOnlyList<Listing.ListedTag>> ListTagsAsync(string repository, TagSelection? selection, bool digests, RegistryAccess access, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(access);
        selection?.Validate();
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        return await Listing.RepositoryTags.ListAsync(registry, repository, selection, digests, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists a registry's repositories (its <c>_catalog</c>, where the registry offers one).</summary>
    /// <param name="registry">The registry host[:port].</param>
    /// <param name="access">How to reach it.</param>
    /// <param name="logger">Detail.</param>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The repositories.</returns>
    /// <exception cref="Errors.RegistryException">The registry does not offer its catalog.</exception>
    public static async Task<IReadOnlyList<string>> ListRepositoriesAsync(string registry, RegistryAccess access, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(access);
        using var client = new RegistryClient(access.Credentials, access.Options, logger);
        return await client.ListRepositoriesAsync(registry, cancellationToken: cancellationToken).ConfigureAwait(false)
            ?? throw new RegistryException($"{registry}: the registry does not offer its catalog (most hosted registries do not); name a repository to list its tags");
    }
}
