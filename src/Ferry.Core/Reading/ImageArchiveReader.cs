using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Reading;

/// <summary>
/// Detects an archive's format by content and reads its metadata: an OCI layout (<c>oci-layout</c> +
/// <c>index.json</c>; names from <c>io.containerd.image.name</c> or <c>org.opencontainers.image.ref.name</c>),
/// else a docker-archive (<c>manifest.json</c>), for which manifests are built from the config and layer
/// files (layer digests computed, diffIDs checked against the config).
/// </summary>
internal static class ImageArchiveReader
{
    public const int MaxJsonBytes = 4 * 1024 * 1024;
    public const int MaxConfigBytes = 8 * 1024 * 1024;
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    public static async Task<ImageArchive> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var file = await ArchiveFile.OpenAsync(path, cancellationToken).ConfigureAwait(false);
        try
        {
            if (file.Contains("index.json") && file.Contains("oci-layout"))
            {
                return await ReadOciLayoutAsync(file, cancellationToken).ConfigureAwait(false);
            }

            if (file.Contains("manifest.json"))
            {
                return await ReadDockerArchiveAsync(file, cancellationToken).ConfigureAwait(false);
            }

            throw new InvalidInputException($"{path} is not an image archive: it has neither index.json + oci-layout nor manifest.json");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static async Task<ImageArchive> ReadOciLayoutAsync(ArchiveFile file, CancellationToken cancellationToken)
    {
        var blobs = new Dictionary<Digest, ImageArchive.BlobSource>();
        foreach (var name in file.Names)
        {
            var parts = name.Split('/');
            if (parts.Length == 3 && parts[0] == "blobs" && Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest))
            {
                blobs[digest] = new ImageArchive.BlobSource(name, null);
            }
        }

        var bytes = await file.ReadSmallAsync("index.json", MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        var index = ManifestDocument.Parse(bytes, MediaTypes.OciIndex, $"{file.Path}: index.json");
        var names = ReadAnnotationNames(bytes, file.Path);
        var images = new List<ArchivedImage>();
        for (var i = 0; i < index.Manifests.Count; i++)
        {
            images.Add(new ArchivedImage(names[i], index.Manifests[i], BuiltFromLayers: false));
        }

        var omitted = new Dictionary<Digest, Saving.OmittedBlob>();
        if (file.Contains(Archives.ImageLayout.PartialFileName))
        {
            try
            {
                foreach (var blob in Saving.Exclusions.ParsePartialJson(await file.ReadSmallAsync(Archives.ImageLayout.PartialFileName, MaxJsonBytes, cancellationToken).ConfigureAwait(false)))
                {
                    omitted[blob.Digest] = blob;
                }
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidInputException($"{file.Path}: {Archives.ImageLayout.PartialFileName} is malformed: {ex.Message}");
            }
        }

        return new ImageArchive(file, "oci-layout", images, blobs, []) { Omitted = omitted };
    }

    private static List<string?> ReadAnnotationNames(byte[] indexJson, string path)
    {
        using var document = JsonDocument.Parse(indexJson, Strict);
        var names = new List<string?>();
        foreach (var entry in document.RootElement.GetProperty("manifests").EnumerateArray())
        {
            string? Annotation(string key) => entry.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object &&
                                              a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var name = Annotation("io.containerd.image.name") ?? Annotation("org.opencontainers.image.ref.name");

            // The OCI spec's ref.name is often a tag alone ("1.27"); that names no repository.
            names.Add(name is not null && (name.Contains('/', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)) ? name : null);
        }

        return names;
    }

    private static async Task<ImageArchive> ReadDockerArchiveAsync(ArchiveFile file, CancellationToken cancellationToken)
    {
        var json = await file.ReadSmallAsync("manifest.json", MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        var items = ParseDockerManifest(json, file.Path);
        var blobs = new Dictionary<Digest, ImageArchive.BlobSource>();
        var images = new List<ArchivedImage>();
        var layerInfo = new ConcurrentDictionary<string, Task<LayerInfo>>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var configBytes = await file.ReadSmallAsync(item.Config, MaxConfigBytes, cancellationToken).ConfigureAwait(false);
            var configDigest = ImageArchive.Sha256(configBytes);
            var diffIds = ReadDiffIds(configBytes, file.Path, item.Config);
            if (diffIds.Count != item.Layers.Count)
            {
                throw new InvalidInputException($"{file.Path}: {item.Config} lists {diffIds.Count} diff_ids but manifest.json lists {item.Layers.Count} layers");
            }

            var layers = await Task.WhenAll(item.Layers.Select(layer => layerInfo.GetOrAdd(layer, l => Task.Run(() => DescribeLayerAsync(file, l, cancellationToken), cancellationToken)))).ConfigureAwait(false);
            for (var i = 0; i < layers.Length; i++)
            {
                if (layers[i].DiffId != diffIds[i])
                {
                    throw new DigestMismatchException($"{file.Path}: layer {item.Layers[i]} uncompresses to {layers[i].DiffId}, but the config's diff_id is {diffIds[i]}");
                }

                blobs[layers[i].Descriptor.Digest] = new ImageArchive.BlobSource(item.Layers[i], null);
            }

            var oci = layers.Any(l => l.Descriptor.MediaType.Contains("zstd", StringComparison.Ordinal));
            var config = new Descriptor(oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig, configDigest, configBytes.Length);
            blobs[configDigest] = new ImageArchive.BlobSource(null, configBytes);
            var manifestBytes = ManifestWriter.ImageManifest(config, layers.Select(l => oci ? l.Descriptor with { MediaType = OciLayerType(l.Compression) } : l.Descriptor), oci);
            var manifest = new Descriptor(oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest, ImageArchive.Sha256(manifestBytes), manifestBytes.Length);
            blobs[manifest.Digest] = new ImageArchive.BlobSource(null, manifestBytes);
            if (item.RepoTags.Count == 0)
            {
                images.Add(new ArchivedImage(null, manifest, BuiltFromLayers: true));
            }

            images.AddRange(item.RepoTags.Select(tag => new ArchivedImage(tag, manifest, BuiltFromLayers: true)));
        }

        return new ImageArchive(file, "docker-archive", images, blobs, []);
    }

    private static List<DockerManifestItem> ParseDockerManifest(byte[] json, string path)
    {
        try
        {
            using var document = JsonDocument.Parse(json, Strict);
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException($"{path}: manifest.json is not an array");
            }

            var items = new List<DockerManifestItem>();
            foreach (var item in document.RootElement.EnumerateArray())
            {
                var config = item.TryGetProperty("Config", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : throw new InvalidInputException($"{path}: a manifest.json entry has no Config");
                var tags = item.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString()).OfType<string>().ToList() : [];
                var layers = item.TryGetProperty("Layers", out var l) && l.ValueKind == JsonValueKind.Array ? l.EnumerateArray().Select(x => x.GetString() ?? string.Empty).ToList() : throw new InvalidInputException($"{path}: a manifest.json entry has no Layers");
                foreach (var name in layers.Append(config))
                {
                    if (ArchiveFile.Normalize(name) is null)
                    {
                        throw new InvalidInputException($"{path}: manifest.json names \"{name}\", which escapes the archive; refused");
                    }
                }

                items.Add(new DockerManifestItem(config, tags, layers));
            }

            return items;
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{path}: manifest.json is not valid JSON: {ex.Message}");
        }
    }

    private static List<Digest> ReadDiffIds(byte[] config, string path, string name)
    {
        try
        {
            using var document = JsonDocument.Parse(config, Strict);
            if (!document.RootElement.TryGetProperty("rootfs", out var rootfs) || !rootfs.TryGetProperty("diff_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException($"{path}: config {name} has no rootfs.diff_ids");
            }

            return ids.EnumerateArray().Select(id => Digest.TryParse(id.GetString(), out var d) ? d : throw new InvalidInputException($"{path}: config {name} has a malformed diff_id")).ToList();
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{path}: config {name} is not valid JSON: {ex.Message}");
        }
    }

    private static async Task<LayerInfo> DescribeLayerAsync(ArchiveFile file, string name, CancellationToken cancellationToken)
    {
        // One pass: the file's own digest, and (for compressed layers) the digest of what it uncompresses to.
        await using var stream = file.Open(name);
        var magic = new byte[4];
        var read = await stream.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var compression = read >= 2 && magic[0] == 0x1f && magic[1] == 0x8b ? "gzip" : read == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd ? "zstd" : "none";
        using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        fileHash.AppendData(magic, 0, read);
        var size = (long)read;
        if (compression == "none")
        {
            var buffer = new byte[1 << 20];
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                fileHash.AppendData(buffer, 0, n);
                size += n;
            }

            var digest = Digest.Parse("sha256:" + Convert.ToHexStringLower(fileHash.GetHashAndReset()));
            return new LayerInfo(new Descriptor("application/vnd.docker.image.rootfs.diff.tar", digest, size), digest, compression);
        }

        await using var again = file.Open(name);
        using var tee = new HashingReadStream(again);
        await using Stream decompressed = compression == "gzip" ? new GZipStream(tee, CompressionMode.Decompress, leaveOpen: true) : new ZstdSharp.DecompressionStream(tee, leaveOpen: true);
        using var diffHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[1 << 20];
        var limit = (file.SizeOf(name) * ArchiveFile.MaxExpansion) + ArchiveFile.BombAllowance;
        long expanded = 0;
        int m;
        try
        {
            while ((m = await decompressed.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                diffHash.AppendData(chunk, 0, m);
                expanded += m;
                if (expanded > limit)
                {
                    throw new InvalidInputException($"{file.Path}: layer {name} decompresses to more than {ArchiveFile.MaxExpansion} times its size; refused as a likely decompression bomb");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidInputException($"{file.Path}: layer {name} is not valid {compression}: {ex.Message}");
        }

        await tee.DrainAsync(cancellationToken).ConfigureAwait(false);
        var layerDigest = tee.Digest();
        var mediaType = compression == "gzip" ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+zstd";
        return new LayerInfo(new Descriptor(mediaType, layerDigest, tee.BytesRead), Digest.Parse("sha256:" + Convert.ToHexStringLower(diffHash.GetHashAndReset())), compression);
    }

    private static string OciLayerType(string compression) => compression switch
    {
        "gzip" => "application/vnd.oci.image.layer.v1.tar+gzip",
        "zstd" => "application/vnd.oci.image.layer.v1.tar+zstd",
        _ => "application/vnd.oci.image.layer.v1.tar",
    };

    private sealed record DockerManifestItem(string Config, IReadOnlyList<string> RepoTags, IReadOnlyList<string> Layers);

    private sealed record LayerInfo(Descriptor Descriptor, Digest DiffId, string Compression);

    /// <summary>Hashes what is read through it (the compressed bytes under a decompressor).</summary>
    private sealed class HashingReadStream(Stream inner) : Content.ForwardOnlyStream(inner)
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long BytesRead { get; private set; }

        public override int Read(Span<byte> buffer)
        {
            var n = Inner.Read(buffer);
            _hash.AppendData(buffer[..n]);
            BytesRead += n;
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            _hash.AppendData(buffer.Span[..n]);
            BytesRead += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        /// <summary>Reads whatever the decompressor left (trailing bytes still belong to the blob).</summary>
        public async Task DrainAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[1 << 16];
            while (await ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }

        public Digest Digest() => References.Digest.Parse("sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset()));

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
