using System.Formats.Tar;
using System.Text.RegularExpressions;
using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer.Sources;

/// <summary>
/// Images taken from a Docker Engine. Every requested image is looked up (<c>/images/{name}/json</c>, side by side;
/// a missing one fails alone), then all of them come in one <c>GET /images/get</c> export. Two ways to read it:
/// <list type="bullet">
/// <item>as a stream (<see cref="StreamAsync"/>): each layer goes straight into a sink that takes blobs in any order,
/// hashed on the way — the bytes cross the disk once, as with <c>docker save</c>;</item>
/// <item>on request (<see cref="ResolveAsync"/>): the export is kept in a temporary file Ferry owns and read like any
/// docker-archive, for sinks that need blobs on request (a compressed or directory archive, a stream, a registry).</item>
/// </list>
/// Either way an error the daemon appends after the tar, or a cut stream, fails the run. Name forms:
/// <c>name:tag</c>, <c>name@digest</c>, image IDs (full or short; the image is then named by its first tag).
/// </summary>
/// <param name="engine">The Engine.</param>
/// <param name="compressLayers">gzip the layers on their way (streamed reading only).</param>
public sealed partial class DaemonSource(DockerEngineClient engine, bool compressLayers = false) : IStreamingImageSource, IDisposable
{
    private const int MaxMetadataBytes = 8 * 1024 * 1024;
    private readonly Dictionary<string, DaemonImage> _inspected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FerryException> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ArchivedImage> _byConfig = new(StringComparer.Ordinal);
    private ImageArchive? _archive;
    private string? _temporary;

    /// <inheritdoc />
    /// <remarks>An Engine holds one platform of each image: whatever it holds is what is saved, unless a platform is named.</remarks>
    public PlatformSelection DefaultPlatforms => PlatformSelection.All;

    /// <inheritdoc />
    public async Task PrepareAsync(IReadOnlyList<string> images, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(platforms);
        var wanted = images.Select(i => i.Trim()).Distinct(StringComparer.Ordinal).ToList();
        foreach (var (image, info, missing) in await InspectAsync(wanted, platforms, cancellationToken).ConfigureAwait(false))
        {
            if (info is not null)
            {
                _inspected[image] = info;
            }
            else
            {
                _failures[image] = missing!;
            }
        }

        var ids = _inspected.Values.Select(i => i.Id).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return;
        }

        _temporary = Content.Debris.CreateSpool("daemon");
        var export = Path.Combine(_temporary, "export.tar");
        try
        {
            await using var file = new FileStream(export, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous);
            await engine.ExportAsync(ids, file, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex) when (Content.DiskSpace.IsFull(ex))
        {
            throw Content.Debris.SpoolFull(_temporary, File.Exists(export) ? new FileInfo(export).Length : 0, ex);
        }

        await CheckTailAsync(export, cancellationToken).ConfigureAwait(false);
        try
        {
            _archive = await ImageArchive.OpenAsync(export, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidInputException ex)
        {
            throw new DaemonException($"the Docker daemon ({engine.Host}) sent a broken export: {ex.Message}", ex);
        }

        foreach (var archived in _archive.Images)
        {
            var manifest = await _archive.ReadManifestAsync(archived.Top, cancellationToken).ConfigureAwait(false);
            _byConfig.TryAdd(manifest.Config!.Digest.ToString(), archived);
        }
    }

    /// <inheritdoc />
    public async Task<ImageIdentity?> PeekAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var info = await engine.InspectImageAsync(image.Trim(), cancellationToken).ConfigureAwait(false);
        _inspected[image.Trim()] = info; // PrepareAsync will not ask again
        return new ImageIdentity(NameFor(image.Trim(), info), Digest.Parse(info.Id), IsConfigDigest: true);
    }

    /// <inheritdoc />
    public Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        image = image.Trim();
        if (_failures.TryGetValue(image, out var failure))
        {
            throw failure;
        }

        var info = _inspected[image];
        var name = NameFor(image, info);
        if (_archive is null || !_byConfig.TryGetValue(info.Id, out var archived))
        {
            throw new DaemonException($"{image}: the Docker daemon's export did not contain image {info.Id}");
        }

        return ImageResolver.ResolveAsync(name, name, new ArchiveSource.Store(_archive, archived.Top), platforms, cancellationToken);
    }

    /// <inheritdoc />
    public Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return Task.FromResult<Stream>(_archive!.OpenBlob(blob.Descriptor));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<(ResolvedImage? Image, FerryException? Failure)>> StreamAsync(IReadOnlyList<string> images, PlatformSelection platforms, IBlobAppender appender, bool continueOnError, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(platforms);
        ArgumentNullException.ThrowIfNull(appender);
        var inspected = await InspectAsync(images.Select(i => i.Trim()).ToList(), platforms, cancellationToken).ConfigureAwait(false);
        if (!continueOnError && inspected.FirstOrDefault(i => i.Missing is not null).Missing is { } missing)
        {
            throw missing;
        }

        var ids = inspected.Where(i => i.Info is not null).Select(i => i.Info!.Id).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return inspected.Select(i => ((ResolvedImage?)null, (FerryException?)i.Missing)).ToList();
        }

        var export = new ExportContent();
        await engine.ExportToAsync(ids, (stream, token) => ReadExportAsync(stream, appender, export, token), cancellationToken).ConfigureAwait(false);
        var byConfig = await BuildImagesAsync(export).ConfigureAwait(false);
        var results = new List<(ResolvedImage?, FerryException?)>();
        foreach (var (image, info, failure) in inspected)
        {
            if (info is null)
            {
                results.Add((null, failure!));
                continue;
            }

            if (!byConfig.TryGetValue(info.Id, out var platform))
            {
                throw new DaemonException($"{image}: the Docker daemon's export did not contain image {info.Id}");
            }

            var name = NameFor(image, info);
            results.Add((new ResolvedImage(name, platform.Manifest, [platform], platform, IsSubset: false, name), null));
        }

        return results;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _archive?.Dispose();
        if (_temporary is not null && Directory.Exists(_temporary))
        {
            Directory.Delete(_temporary, recursive: true);
        }
    }

    /// <summary>The name the archive records: the reference as given, or for an image ID its first tag.</summary>
    internal static ImageReference NameFor(string image, DaemonImage info)
    {
        var hex = info.Id.StartsWith("sha256:", StringComparison.Ordinal) ? info.Id[7..] : info.Id;
        var asId = image.StartsWith("sha256:", StringComparison.Ordinal) ? image[7..] : image;
        if (ImageIdPattern().IsMatch(asId) && hex.StartsWith(asId, StringComparison.Ordinal))
        {
            var tag = info.RepoTags.FirstOrDefault(t => t != "<none>:<none>")
                      ?? throw new InvalidInputException($"{image}: image {info.Id[..Math.Min(19, info.Id.Length)]} has no tag to name it by in the archive; tag it first (docker tag)");
            return ImageReference.Parse(tag);
        }

        return ImageReference.Parse(image);
    }

    /// <summary>
    /// Looks the images up side by side (the export, which the daemon needs a while to start answering, goes out
    /// sooner); an image held for a platform that is not selected fails here, before anything is exported: an Engine
    /// keeps one platform of each image and cannot export another.
    /// </summary>
    private async Task<List<(string Image, DaemonImage? Info, FerryException? Missing)>> InspectAsync(IReadOnlyList<string> images, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        var results = new (string, DaemonImage?, FerryException?)[images.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, images.Count),
            new ParallelOptions { MaxDegreeOfParallelism = engine.ConcurrentRequests, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                if (_inspected.TryGetValue(images[i], out var known))
                {
                    results[i] = (images[i], known, null);
                    return;
                }

                try
                {
                    results[i] = (images[i], await engine.InspectImageAsync(images[i], token).ConfigureAwait(false), null);
                }
                catch (ImageNotFoundException ex)
                {
                    results[i] = (images[i], null, ex);
                }
            }).ConfigureAwait(false);
        for (var i = 0; i < results.Length; i++)
        {
            if (results[i].Item2 is { Platform: { } held } && !platforms.FallsBackToAny && !platforms.Includes(held))
            {
                results[i] = (results[i].Item1, null, new PlatformNotFoundException($"{results[i].Item1}: the Docker Engine ({engine.Host}) holds it for {held} only, and an Engine keeps one platform of each image, so it cannot export {platforms}; pull that platform into the Engine first (docker pull with that platform), or save it from its registry"));
            }
        }

        return [.. results];
    }

    /// <summary>An export kept in a file: after the tar's end blocks there must be nothing but zeros.</summary>
    private async Task CheckTailAsync(string export, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(export, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        long end;
        try
        {
            (_, end) = await TarIndexer.IndexWithEndAsync(file, $"the export of {engine.Host}", ArchiveFile.MaxMembers, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidInputException ex)
        {
            throw new DaemonException($"the Docker daemon ({engine.Host}) sent a broken export (cut or corrupt): {ex.Message}", ex);
        }

        var tail = new byte[(int)Math.Clamp(file.Length - end, 0, 64 * 1024)];
        await RandomAccess.ReadAsync(file.SafeFileHandle, tail, end, cancellationToken).ConfigureAwait(false);
        DaemonErrors.ThrowIfErrorAfterExport(tail, engine.Host);
    }

    /// <summary>Reads the export entry by entry: layers into the appender, metadata into memory, links noted; then the tail.</summary>
    private async Task ReadExportAsync(Stream stream, IBlobAppender appender, ExportContent export, CancellationToken cancellationToken)
    {
        var reader = new TarReader(stream, leaveOpen: true);
        while (await NextAsync(reader, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            var name = EntryNames.Normalize(entry.Name) ?? throw new DaemonException($"the Docker daemon ({engine.Host}) sent an entry named \"{entry.Name}\"; refused");
            if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
            {
                export.Links[name] = (entry.LinkName, entry.EntryType == TarEntryType.HardLink);
                continue;
            }

            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                continue;
            }

            // Layers: ID/layer.tar (docker 20.10 and earlier) and every blobs/ entry (docker 25+; small ones are also kept, they may be configs).
            var isBlob = name.StartsWith("blobs/", StringComparison.Ordinal);
            var isLayer = isBlob || name.EndsWith("/layer.tar", StringComparison.Ordinal);
            if (!isLayer && entry.Length > MaxMetadataBytes)
            {
                throw new DaemonException($"the Docker daemon ({engine.Host}) sent {name} of {entry.Length} bytes, too big for metadata");
            }

            byte[]? bytes = null;
            if (!isLayer || (isBlob && entry.Length <= MaxMetadataBytes))
            {
                bytes = new byte[entry.Length];
                await using var data = new ExportReadStream(entry.DataStream!, name);
                try
                {
                    await data.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
                }
                catch (EndOfStreamException ex)
                {
                    throw new DaemonException($"the Docker daemon's export stream broke off in {name}", ex);
                }

                export.Metadata[name] = bytes;
            }

            if (isLayer)
            {
                Digest? expected = isBlob && Digest.TryParse(name["blobs/".Length..].Replace('/', ':'), out var named) ? named : null;
                await using Stream data = bytes is null ? new ExportReadStream(entry.DataStream!, name) : new MemoryStream(bytes, writable: false);
                try
                {
                    export.Layers[name] = await appender.AppendAsync(data, entry.Length, compressLayers && !isBlob, expected, cancellationToken).ConfigureAwait(false);
                }
                catch (EndOfStreamException ex)
                {
                    throw new DaemonException($"the Docker daemon's export stream broke off in {name} ({ex.Message})", ex);
                }
                catch (DigestMismatchException ex)
                {
                    throw new DigestMismatchException($"the Docker daemon sent {name}, which does not match its name: {ex.Message}");
                }
            }
        }

        // After the tar's end blocks: nothing but zeros, or the daemon's appended error.
        var tail = new MemoryStream();
        var buffer = new byte[64 * 1024];
        await using var rest = new ExportReadStream(stream, "its end");
        int n;
        while ((n = await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0 && tail.Length < 64 * 1024)
        {
            tail.Write(buffer, 0, n);
        }

        DaemonErrors.ThrowIfErrorAfterExport(tail.ToArray(), engine.Host);
    }

    private static async Task<TarEntry?> NextAsync(TarReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or IOException)
        {
            throw new DaemonException($"the Docker daemon's export stream broke off or is corrupt: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// From <c>manifest.json</c> and the configs, read as any docker-archive is (<see cref="DockerArchiveImages"/>):
    /// one platform image per config digest, manifests built, diff_ids checked.
    /// </summary>
    private async Task<Dictionary<string, PlatformImage>> BuildImagesAsync(ExportContent export)
    {
        var where = $"the Docker daemon's export ({engine.Host})";
        if (!export.Metadata.TryGetValue(DockerManifestFile.FileName, out var manifestJson))
        {
            throw new DaemonException($"{where} has no manifest.json; it is incomplete");
        }

        var images = await DockerArchiveImages.ReadAsync(
            manifestJson,
            where,
            config => Task.FromResult(export.Metadata.TryGetValue(config, out var bytes) ? bytes : throw new DaemonException($"{where} lacks {config}")),
            layer => Task.FromResult(export.Layer(layer, where))).ConfigureAwait(false);
        var result = new Dictionary<string, PlatformImage>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            result.TryAdd(image.Manifest.Config!.Digest.ToString(), new PlatformImage(image.Info.Platform, image.Manifest, image.Config));
        }

        return result;
    }

    [GeneratedRegex("^[0-9a-f]{12,64}$")]
    private static partial Regex ImageIdPattern();

    /// <summary>What a streamed export held besides the layer bytes.</summary>
    private sealed class ExportContent
    {
        public Dictionary<string, byte[]> Metadata { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Reading.HashedBlob> Layers { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, (string Target, bool IsHard)> Links { get; } = new(StringComparer.Ordinal);

        /// <summary>A layer by the name manifest.json uses, following links inside the export.</summary>
        public Reading.HashedBlob Layer(string path, string where)
        {
            var current = path;
            for (var hops = 0; hops < 40; hops++)
            {
                if (Layers.TryGetValue(current, out var layer))
                {
                    return layer;
                }

                if (!Links.TryGetValue(current, out var link) || EntryNames.ResolveLink(current, link.Target, link.IsHard) is not { } next)
                {
                    break;
                }

                current = next;
            }

            throw new DaemonException($"{where} names layer {path}, which it did not send");
        }
    }

    /// <summary>Reads the export; a broken connection is the daemon's failure, named with the entry it broke off in.</summary>
    private sealed class ExportReadStream(Stream inner, string entry) : Content.ForwardOnlyStream(inner)
    {
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Inner.Read(buffer);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                throw Broken(ex);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                throw Broken(ex);
            }
        }

        private DaemonException Broken(Exception ex) => new($"the Docker daemon's export stream broke off in {entry}: {ex.Message}", ex);
    }
}
