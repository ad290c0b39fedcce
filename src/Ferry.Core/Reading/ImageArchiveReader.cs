using System.Collections.Concurrent;
using System.Security.Cryptography;
using Ferry.Archives.Format;
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

    public static async Task<ImageArchive> ReadAsync(string path, ArchiveLimits? limits, CancellationToken cancellationToken) =>
        await ReadAsync(await ArchiveFile.OpenAsync(path, limits, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    public static async Task<ImageArchive> ReadAsync(Stream input, string displayName, ArchiveLimits? limits, CancellationToken cancellationToken) =>
        await ReadAsync(await ArchiveFile.OpenAsync(input, displayName, limits, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>Reads the metadata of an opened archive; the archive owns <paramref name="file"/> (disposed on failure).</summary>
    private static async Task<ImageArchive> ReadAsync(ArchiveFile file, CancellationToken cancellationToken)
    {
        try
        {
            if (file.Contains(OciIndexFile.FileName) && file.Contains("oci-layout"))
            {
                var entries = OciIndexFile.Read(await file.ReadSmallAsync(OciIndexFile.FileName, MaxJsonBytes, cancellationToken).ConfigureAwait(false), file.Path);

                // Docker 25+ saving an untagged image writes "manifests": null; docker load and skopeo then read manifest.json.
                if (entries.Count > 0 || !file.Contains(DockerManifestFile.FileName))
                {
                    return await ReadOciLayoutAsync(file, entries, cancellationToken).ConfigureAwait(false);
                }
            }

            if (file.Contains(DockerManifestFile.FileName))
            {
                return await ReadDockerArchiveAsync(file, cancellationToken).ConfigureAwait(false);
            }

            throw new InvalidInputException($"{file.Path} is not an image archive: it has neither index.json + oci-layout nor manifest.json");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static async Task<ImageArchive> ReadOciLayoutAsync(ArchiveFile file, IReadOnlyList<OciIndexEntry> entries, CancellationToken cancellationToken)
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

        var images = entries.Where(e => e.Artifact is null).Select(e => new ArchivedImage(e.Name, e.Descriptor, BuiltFromLayers: false)).ToList();
        var artifacts = entries.Where(e => e.Artifact is not null).Select(e => new ArchivedArtifact(e.Descriptor, e.Artifact!)).ToList();
        var omitted = new Dictionary<Digest, OmittedBlob>();
        if (file.Contains(PartialRecord.FileName))
        {
            foreach (var blob in PartialRecord.Read(await file.ReadSmallAsync(PartialRecord.FileName, MaxJsonBytes, cancellationToken).ConfigureAwait(false), file.Path))
            {
                omitted[blob.Digest] = blob;
            }
        }

        return new ImageArchive(file, "oci-layout", images, blobs, []) { Omitted = omitted, Artifacts = artifacts };
    }

    private static async Task<ImageArchive> ReadDockerArchiveAsync(ArchiveFile file, CancellationToken cancellationToken)
    {
        var blobs = new Dictionary<Digest, ImageArchive.BlobSource>();
        var images = new List<ArchivedImage>();
        var layerInfo = new ConcurrentDictionary<string, Task<HashedBlob>>(StringComparer.Ordinal);
        var read = await DockerArchiveImages.ReadAsync(
            await file.ReadSmallAsync(DockerManifestFile.FileName, MaxJsonBytes, cancellationToken).ConfigureAwait(false),
            file.Path,
            config => file.ReadSmallAsync(config, MaxConfigBytes, cancellationToken),
            layer => layerInfo.GetOrAdd(layer, l => Task.Run(() => DescribeLayerAsync(file, l, cancellationToken), cancellationToken))).ConfigureAwait(false);
        foreach (var image in read)
        {
            for (var i = 0; i < image.Layers.Count; i++)
            {
                blobs[image.Layers[i].Descriptor.Digest] = new ImageArchive.BlobSource(image.Item.Layers[i], null);
            }

            blobs[Digest.Sha256Of(image.Config)] = new ImageArchive.BlobSource(null, image.Config);
            blobs[image.Manifest.Digest] = new ImageArchive.BlobSource(null, image.Manifest.Content.ToArray());
            if (image.Item.RepoTags.Count == 0)
            {
                images.Add(new ArchivedImage(null, image.Manifest.Descriptor, BuiltFromLayers: true));
            }

            images.AddRange(image.Item.RepoTags.Select(tag => new ArchivedImage(tag, image.Manifest.Descriptor, BuiltFromLayers: true)));
        }

        return new ImageArchive(file, "docker-archive", images, blobs, []);
    }

    /// <summary>
    /// The manifest of an image that came without one (a docker-archive, a daemon's export): the config and the layers
    /// as stored. A Docker schema 2 manifest, or an OCI one when a layer is zstd (Docker's types have no zstd).
    /// </summary>
    /// <param name="config">The config's bytes.</param>
    /// <param name="layers">Each layer's descriptor (digest and size of the stored bytes) and compression.</param>
    /// <returns>The manifest.</returns>
    internal static ManifestDocument BuildManifest(byte[] config, IReadOnlyList<(Descriptor Layer, DetectedCompression Compression)> layers)
    {
        var oci = layers.Any(l => l.Compression == DetectedCompression.Zstd);
        var configDescriptor = new Descriptor(oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig, Digest.Sha256Of(config), config.Length);
        var bytes = ManifestWriter.ImageManifest(configDescriptor, layers.Select(l => l.Layer with { MediaType = LayerType(l.Compression, oci) }), oci);
        return ManifestDocument.Parse(bytes, oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest, configDescriptor.Digest.Short);
    }

    private static string LayerType(DetectedCompression compression, bool oci) => (compression, oci) switch
    {
        (DetectedCompression.Gzip, false) => "application/vnd.docker.image.rootfs.diff.tar.gzip",
        (_, false) => "application/vnd.docker.image.rootfs.diff.tar",
        (DetectedCompression.Gzip, true) => "application/vnd.oci.image.layer.v1.tar+gzip",
        (DetectedCompression.Zstd, true) => "application/vnd.oci.image.layer.v1.tar+zstd",
        _ => "application/vnd.oci.image.layer.v1.tar",
    };

    private static async Task<HashedBlob> DescribeLayerAsync(ArchiveFile file, string name, CancellationToken cancellationToken)
    {
        // One pass: the file's own digest, and (for compressed layers) the digest of what it uncompresses to.
        await using var stream = file.Open(name);
        var magic = new byte[4];
        var read = await stream.ReadAtLeastAsync(magic, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var compression = CompressionDetector.Detect(magic.AsSpan(0, read));
        using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        fileHash.AppendData(magic, 0, read);
        var size = (long)read;
        if (compression == DetectedCompression.None)
        {
            var buffer = new byte[1 << 20];
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                fileHash.AppendData(buffer, 0, n);
                size += n;
            }

            var digest = Digest.Parse("sha256:" + Convert.ToHexStringLower(fileHash.GetHashAndReset()));
            return new HashedBlob(new Descriptor(string.Empty, digest, size), digest, compression);
        }

        await using var again = file.Open(name);
        using var tee = new HashingReadStream(again);
        await using var decompressed = CompressionDetector.Decompress(tee, compression, leaveOpen: true);
        using var diffHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunk = new byte[1 << 20];
        var limit = (file.SizeOf(name) * file.Limits.MaxExpansion) + ArchiveFile.BombAllowance;
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
                    throw new InvalidInputException($"{file.Path}: layer {name} decompresses to more than {file.Limits.MaxExpansion} times its size; refused as a likely decompression bomb");
                }
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidInputException($"{file.Path}: layer {name} is not valid {CompressionDetector.Name(compression)}: {ex.Message}");
        }

        await tee.DrainAsync(cancellationToken).ConfigureAwait(false);
        var layerDigest = tee.Digest();
        return new HashedBlob(new Descriptor(string.Empty, layerDigest, tee.BytesRead), Digest.Parse("sha256:" + Convert.ToHexStringLower(diffHash.GetHashAndReset())), compression);
    }

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
