using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ferry.Archives;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Saving;

/// <summary>
/// The one-pass daemon save for a plain tar file: the <c>GET /images/get</c> stream is read entry by entry and every
/// layer is written straight into the output under a placeholder header, hashed on the way, and the header is then
/// patched with its digest name — the bytes cross the disk once, as with <c>docker save</c>. Configs and
/// <c>manifest.json</c> are kept in memory; at the end manifests are built (layer digest = diff_id, checked against
/// each config) and the same <c>index.json</c>/<c>manifest.json</c> as a registry save are appended. An error the
/// daemon appends after the tar, or a cut stream, fails the save and removes the temporary file.
/// </summary>
public sealed class DaemonDirectSaver(DockerEngineClient engine, bool compressLayers = false)
{
    private const int MaxMetadataBytes = 8 * 1024 * 1024;

    /// <summary>Saves images from the daemon into <see cref="SaveRequest.Output"/> (an uncompressed tar file).</summary>
    /// <param name="request">What to save; <see cref="SaveRequest.ContinueOnError"/> makes a missing image a listed failure.</param>
    /// <param name="progress">Receives byte counts and a saved event per image.</param>
    /// <param name="cancellationToken">Cancels the save; the temporary file is removed.</param>
    /// <returns>What was saved.</returns>
    public async Task<SaveResult> SaveAsync(SaveRequest request, IProgress<TransferEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Output is null || request.OutputStream is not null || request.Format != ArchiveFormat.Tar || request.Compression != Archives.Compression.OuterCompression.None)
        {
            throw new InvalidInputException("the one-pass daemon save writes an uncompressed tar file only");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var output = AtomicOutput.Prepare(request.Output);
        using var peekSource = new DaemonImageSource(engine);
        if (await UpToDate.CheckAsync(output.Target, request, (image, token) => peekSource.PeekAsync(image, request, token), cancellationToken).ConfigureAwait(false) is { } upToDate)
        {
            return new SaveResult(upToDate.Images, upToDate.Bytes, 0, output.Target, []) { Executed = false };
        }

        // Inspected side by side: the export request, which the daemon needs a while to start answering, goes out sooner.
        var inspected = new (DaemonImage? Info, ImageNotFoundException? Missing)[request.Images.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, request.Images.Count),
            new ParallelOptions { MaxDegreeOfParallelism = engine.ConcurrentRequests, CancellationToken = cancellationToken },
            async (i, token) =>
            {
                try
                {
                    inspected[i] = (await engine.InspectImageAsync(request.Images[i].Trim(), token).ConfigureAwait(false), null);
                }
                catch (ImageNotFoundException ex) when (request.ContinueOnError)
                {
                    inspected[i] = (null, ex);
                }
            }).ConfigureAwait(false);

        var failed = new List<FailedImage>();
        var wanted = new List<(int Position, string Image, DaemonImage Info)>();
        for (var i = 0; i < request.Images.Count; i++)
        {
            if (inspected[i].Info is { } info)
            {
                wanted.Add((i + 1, request.Images[i].Trim(), info));
            }
            else
            {
                var failure = new FailedImage(request.Images[i], i + 1, inspected[i].Missing!.Message);
                failed.Add(failure);
                progress?.Report(new ImageFailedEvent(failure, request.Images.Count));
            }
        }

        if (wanted.Count == 0)
        {
            return new SaveResult([], 0, 0, null, failed);
        }

        try
        {
            var saved = await WriteAsync(output, wanted, request.Images.Count, clock, progress, cancellationToken).ConfigureAwait(false);
            output.CommitFile();
            return new SaveResult(saved.Images, new FileInfo(output.Target).Length, saved.LayerBytes, output.Target, failed);
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            output.Abandon();
            throw new OutputException($"cannot write {output.Target}: {ex.Message}", ex);
        }
        catch
        {
            output.Abandon();
            throw;
        }
    }

    private async Task<(List<SavedImage> Images, long LayerBytes)> WriteAsync(AtomicOutput output, List<(int Position, string Image, DaemonImage Info)> wanted, int count, System.Diagnostics.Stopwatch clock, IProgress<TransferEvent>? progress, CancellationToken cancellationToken)
    {
        var metadata = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var layers = new Dictionary<string, (Descriptor Descriptor, Digest DiffId)>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        var written = new HashSet<Digest>();
        long layerBytes = 0;
        await using var file = new FileStream(output.Temporary, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Options = FileOptions.Asynchronous, BufferSize = 0 });
        var ids = wanted.Select(w => w.Info.Id).Distinct(StringComparer.Ordinal).ToList();
        byte[][] buffers = [new byte[1 << 20], new byte[1 << 20]]; // shared by every layer: see CopyLayerAsync
        await engine.ExportToAsync(ids, async (stream, token) =>
        {
            var reader = new TarReader(stream, leaveOpen: true);
            while (await NextAsync(reader, token).ConfigureAwait(false) is { } entry)
            {
                var name = Reading.ArchiveFile.Normalize(entry.Name) ?? throw new DaemonException($"the Docker daemon ({engine.Host}) sent an entry named \"{entry.Name}\"; refused");
                if (entry.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink)
                {
                    links[name] = entry.LinkName;
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    if (IsLayer(name))
                    {
                        var (descriptor, diffId, copy) = await CopyLayerAsync(entry, file, buffers, written, name, compressLayers && name.EndsWith("/layer.tar", StringComparison.Ordinal), token).ConfigureAwait(false);
                        layers[name] = (descriptor, diffId);
                        layerBytes += descriptor.Size;
                        progress?.Report(new BytesTransferredEvent(descriptor.Size));
                        if (copy is not null)
                        {
                            metadata[name] = copy;
                        }
                    }
                    else if (entry.Length <= MaxMetadataBytes)
                    {
                        var bytes = new byte[entry.Length];
                        try
                        {
                            await entry.DataStream!.ReadExactlyAsync(bytes, token).ConfigureAwait(false);
                        }
                        catch (IOException ex)
                        {
                            throw new DaemonException($"the Docker daemon's export stream broke off in {name}: {ex.Message}", ex);
                        }

                        metadata[name] = bytes;
                    }
                    else
                    {
                        throw new DaemonException($"the Docker daemon ({engine.Host}) sent {name} of {entry.Length} bytes, too big for metadata");
                    }
                }
            }

            // After the tar's end blocks: nothing but zeros, or the daemon's appended error.
            var tail = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int n;
            try
            {
                while ((n = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0 && tail.Length < 64 * 1024)
                {
                    tail.Write(buffer, 0, n);
                }
            }
            catch (IOException ex)
            {
                throw new DaemonException($"the Docker daemon's export stream broke off at its end: {ex.Message}", ex);
            }

            var text = Encoding.UTF8.GetString(tail.ToArray()).Trim('\0', ' ', '\r', '\n');
            if (text.Length > 0)
            {
                throw new DaemonException($"the Docker daemon ({engine.Host}) reported an error in the middle of the export: {DaemonErrors.MessageOf(text)}");
            }
        }, cancellationToken).ConfigureAwait(false);

        var resolved = new List<ResolvedImage>();
        var positions = new List<int>();
        var byConfig = BuildImages(metadata, layers, links);
        foreach (var (position, image, info) in wanted)
        {
            if (!byConfig.TryGetValue(info.Id, out var built))
            {
                throw new DaemonException($"{image}: the Docker daemon's export did not contain image {info.Id}");
            }

            var name = DaemonImageSource.NameFor(image, info);
            resolved.Add(new ResolvedImage(name, built.Manifest, [built], built, IsSubset: false, name));
            positions.Add(position);
        }

        var layout = LayoutBuilder.Build(resolved);
        foreach (var blob in layout.Blobs.Where(b => b.Content is not null && written.Add(b.Descriptor.Digest)))
        {
            await TarHeader.WriteEntryAsync(file, blob.Path, blob.Content!.Value, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (entryName, content) in layout.MetadataFiles)
        {
            await TarHeader.WriteEntryAsync(file, entryName, content, cancellationToken).ConfigureAwait(false);
        }

        await file.WriteAsync(TarHeader.Zeros, cancellationToken).ConfigureAwait(false);
        await file.FlushAsync(cancellationToken).ConfigureAwait(false);

        var saved = new List<SavedImage>();
        for (var i = 0; i < resolved.Count; i++)
        {
            var image = new SavedImage(resolved[i].Reference, resolved[i].Top.Digest, [resolved[i].Primary.Platform], resolved[i].TotalBytes, false);
            saved.Add(image);
            progress?.Report(new ImageSavedEvent(image, positions[i], count, clock.Elapsed));
        }

        return (saved, layerBytes);
    }

    /// <summary>Layers: <c>ID/layer.tar</c> (docker 20.10 and earlier) and every <c>blobs/</c> entry (docker 25+).</summary>
    private static bool IsLayer(string name) => name.EndsWith("/layer.tar", StringComparison.Ordinal) || name.StartsWith("blobs/", StringComparison.Ordinal);

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

    /// <summary>Writes a layer at the end of the file under a placeholder header, hashing it (and gzip-compressing it when asked), then names it by its digest.</summary>
    private static async Task<(Descriptor Descriptor, Digest DiffId, byte[]? Copy)> CopyLayerAsync(TarEntry entry, FileStream file, byte[][] buffers, HashSet<Digest> written, string name, bool compress, CancellationToken cancellationToken)
    {
        var headerAt = file.Position;
        const string placeholder = "blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000";
        await file.WriteAsync(TarHeader.Build(placeholder, compress ? 0 : entry.Length, isDirectory: false), cancellationToken).ConfigureAwait(false);
        // Uncompressed, the stored blob is the diff itself: one hash gives both digests.
        using var diffHash = compress ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        using var sink = new HashingFileWriter(file);
        await using var compressor = compress ? new Archives.Compression.ParallelBlockCompressor(sink, Archives.Compression.OuterCompression.Gzip) : null;
        var copy = entry.Length <= MaxMetadataBytes && name.StartsWith("blobs/", StringComparison.Ordinal) ? new MemoryStream((int)entry.Length) : null;

        // Two buffers: the next one is read from the daemon while the last one is hashed and written, so the
        // network, SHA-256 and the disk overlap instead of taking turns.
        var current = 0;
        var pending = Task.CompletedTask;
        long total = 0;
        try
        {
            while (true)
            {
                var buffer = buffers[current];
                int n;
                try
                {
                    // Whole buffers: a few large writes instead of one per network read.
                    n = await entry.DataStream!.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException)
                {
                    throw new DaemonException($"the Docker daemon's export stream broke off in {name}: {ex.Message}", ex);
                }

                await pending.ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
                var chunk = buffer.AsMemory(0, n);
                pending = Task.Run(
                    async () =>
                    {
                        diffHash?.AppendData(chunk.Span);
                        copy?.Write(chunk.Span);
                        if (compressor is not null)
                        {
                            await compressor.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            await sink.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                        }
                    },
                    cancellationToken);
                current ^= 1;
            }
        }
        finally
        {
            // Never leave a write running on a buffer (or a file) that is about to go away.
            await pending.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (total != entry.Length)
        {
            throw new DaemonException($"the Docker daemon's export stream broke off in {name} ({total} of {entry.Length} bytes)");
        }

        if (compressor is not null)
        {
            await compressor.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var digest = sink.Digest();
        var diffId = diffHash is null ? digest : Digest.Parse("sha256:" + Convert.ToHexStringLower(diffHash.GetHashAndReset()));
        var size = sink.BytesWritten;
        if (name.StartsWith("blobs/", StringComparison.Ordinal) && name != digest.LayoutPath)
        {
            throw new DigestMismatchException($"the Docker daemon sent {name} whose content hashes to {digest}");
        }

        if (!written.Add(digest))
        {
            file.SetLength(headerAt); // the same layer twice: keep one copy
            file.Position = headerAt;
        }
        else
        {
            await file.WriteAsync(TarHeader.PaddingFor(size), cancellationToken).ConfigureAwait(false);
            await RandomAccess.WriteAsync(file.SafeFileHandle, TarHeader.Build(digest.LayoutPath, size, isDirectory: false), headerAt, cancellationToken).ConfigureAwait(false);
        }

        var mediaType = compress ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.docker.image.rootfs.diff.tar";
        return (new Descriptor(mediaType, digest, size), diffId, copy?.ToArray());
    }

    /// <summary>Writes through to the archive file, hashing and counting what passes.</summary>
    private sealed class HashingFileWriter(FileStream file) : Content.WriteOnlyStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly Content.EarlyWriteback _writeback = new(file.SafeFileHandle);

        public long BytesWritten { get; private set; }

        public Digest Digest() => References.Digest.Parse("sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset()));

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            BytesWritten += buffer.Length;
            await file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            _writeback.Written(file.Position);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>From <c>manifest.json</c> and the configs: one platform image per config digest, manifests built, diff_ids checked.</summary>
    private Dictionary<string, PlatformImage> BuildImages(Dictionary<string, byte[]> metadata, Dictionary<string, (Descriptor Descriptor, Digest DiffId)> layers, Dictionary<string, string> links)
    {
        if (!metadata.TryGetValue("manifest.json", out var manifestJson))
        {
            throw new DaemonException($"the Docker daemon's export ({engine.Host}) has no manifest.json; it is incomplete");
        }

        (Descriptor Descriptor, Digest DiffId) Layer(string path)
        {
            var current = path;
            for (var hops = 0; hops < 40; hops++)
            {
                if (layers.TryGetValue(current, out var descriptor))
                {
                    return descriptor;
                }

                if (!links.TryGetValue(current, out var target))
                {
                    break;
                }

                var directory = current.Contains('/', StringComparison.Ordinal) ? current[..current.LastIndexOf('/')] + "/" : string.Empty;
                current = Reading.ArchiveFile.ResolveWithin(directory + target) ?? string.Empty;
            }

            throw new DaemonException($"the Docker daemon's export names layer {path}, which it did not send");
        }

        var result = new Dictionary<string, PlatformImage>(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(manifestJson);
        foreach (var item in document.RootElement.EnumerateArray())
        {
            var configName = item.GetProperty("Config").GetString()!;
            var config = metadata.TryGetValue(configName, out var bytes) ? bytes : throw new DaemonException($"the Docker daemon's export lacks {configName}");
            var configDigest = Digest.Sha256Of(config);
            var layerDescriptors = item.GetProperty("Layers").EnumerateArray().Select(l => Layer(l.GetString()!)).ToList();
            using var configDocument = JsonDocument.Parse(config);
            var diffIds = configDocument.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()).ToList();
            if (diffIds.Count != layerDescriptors.Count || diffIds.Zip(layerDescriptors).Any(p => p.First != p.Second.DiffId.ToString()))
            {
                throw new DigestMismatchException($"the Docker daemon's export of {configDigest.Short}: layers do not match the config's diff_ids");
            }

            var manifestBytes = ManifestWriter.ImageManifest(new Descriptor(MediaTypes.DockerConfig, configDigest, config.Length), layerDescriptors.Select(l => l.Descriptor), oci: false);
            var manifest = ManifestDocument.Parse(manifestBytes, MediaTypes.DockerManifest, configDigest.Short);
            result.TryAdd(configDigest.ToString(), new PlatformImage(ImageConfigInfo.Parse(config, configDigest.Short).Platform, manifest, config));
        }

        return result;
    }
}
