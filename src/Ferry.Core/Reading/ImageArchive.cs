using System.Security.Cryptography;
using Ferry.Archives.Format;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Reading;

/// <summary>One image an archive holds: a name (when the archive gives one) and its top manifest or index.</summary>
/// <param name="Name">The reference as written in the archive (full, or as docker/podman wrote it); <see langword="null"/> when unnamed.</param>
/// <param name="Top">The manifest or index descriptor.</param>
/// <param name="BuiltFromLayers">Whether Ferry built the manifest (archives without registry manifests, e.g. legacy <c>docker save</c>).</param>
public sealed record ArchivedImage(string? Name, Descriptor Top, bool BuiltFromLayers);

/// <summary>A signature, attestation, SBOM or other artifact an archive carries with an image.</summary>
/// <param name="Descriptor">The artifact's manifest.</param>
/// <param name="Link">Whose it is: repository, subject, tag.</param>
public sealed record ArchivedArtifact(Descriptor Descriptor, ArtifactLink Link);

/// <summary>
/// The images and blobs of an archive in any format Ferry reads (OCI layout — Ferry's, skopeo's, podman's,
/// docker 25+ — or docker-archive — docker 20.10, skopeo, podman, crane), with every blob reachable by digest.
/// Blob bytes are verified as they are read; manifests Ferry had to build are kept in memory.
/// </summary>
public sealed class ImageArchive : IDisposable
{
    private readonly Dictionary<Digest, BlobSource> _blobs;

    internal ImageArchive(ArchiveFile file, string format, IReadOnlyList<ArchivedImage> images, Dictionary<Digest, BlobSource> blobs, IReadOnlyList<string> warnings)
    {
        File = file;
        Format = format;
        Images = images;
        _blobs = blobs;
        Warnings = warnings;
    }

    /// <summary>The underlying file.</summary>
    public ArchiveFile File { get; }

    /// <summary><c>oci-layout</c> or <c>docker-archive</c>.</summary>
    public string Format { get; }

    /// <summary>The images, in archive order.</summary>
    public IReadOnlyList<ArchivedImage> Images { get; }

    /// <summary>The artifacts carried with the images (signatures, attestations, SBOMs), in archive order.</summary>
    public IReadOnlyList<ArchivedArtifact> Artifacts { get; init; } = [];

    /// <summary>Layers a partial archive leaves out on purpose (its <c>ferry-partial.json</c>), by digest.</summary>
    public IReadOnlyDictionary<Digest, OmittedBlob> Omitted { get; init; } = new Dictionary<Digest, OmittedBlob>();

    /// <summary>Things worth telling the user that do not stop a load.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Opens an archive and reads its metadata (format detected by content).</summary>
    /// <param name="path">A tar, tar.gz, tar.zst or a layout directory.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The archive; dispose it.</returns>
    /// <exception cref="InvalidInputException">Not an image archive, or malformed or hostile.</exception>
    public static Task<ImageArchive> OpenAsync(string path, CancellationToken cancellationToken = default) => ImageArchiveReader.ReadAsync(path, null, cancellationToken);

    /// <summary>Opens an archive or layout directory with the given limits.</summary>
    /// <param name="path">The archive.</param>
    /// <param name="limits">How far it may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The archive.</returns>
    public static Task<ImageArchive> OpenAsync(string path, ArchiveLimits? limits, CancellationToken cancellationToken = default) => ImageArchiveReader.ReadAsync(path, limits, cancellationToken);

    /// <summary>Opens an archive read from a stream (stdin, a pipe): it is copied into a temporary file Ferry removes on dispose.</summary>
    /// <param name="input">The stream, read to its end.</param>
    /// <param name="displayName">How messages name it.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The archive; dispose it.</returns>
    /// <exception cref="InvalidInputException">Not an image archive, or malformed or hostile.</exception>
    public static Task<ImageArchive> OpenAsync(Stream input, string displayName, CancellationToken cancellationToken = default) => ImageArchiveReader.ReadAsync(input, displayName, null, cancellationToken);

    /// <summary>Opens an archive read from a stream with the given limits.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How messages name it.</param>
    /// <param name="limits">How far it may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The archive.</returns>
    public static Task<ImageArchive> OpenAsync(Stream input, string displayName, ArchiveLimits? limits, CancellationToken cancellationToken = default) => ImageArchiveReader.ReadAsync(input, displayName, limits, cancellationToken);

    /// <summary>Whether the archive holds a blob.</summary>
    /// <param name="digest">The digest.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(Digest digest) => _blobs.ContainsKey(digest);

    /// <summary>Opens a blob; the stream fails at its end when size or digest differ from the descriptor.</summary>
    /// <param name="descriptor">What the blob must be.</param>
    /// <returns>A verifying stream.</returns>
    /// <exception cref="InvalidInputException">The blob is not in the archive.</exception>
    public VerifyingReadStream OpenBlob(Descriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (!_blobs.TryGetValue(descriptor.Digest, out var source))
        {
            throw new InvalidInputException($"{File.Path}: blob {descriptor.Digest} is not in the archive");
        }

        // The size is checked before anything is opened (a wrong-sized entry, or a special file, is never read).
        var size = source.Bytes?.LongLength ?? File.SizeOf(source.EntryName!);
        if (size != descriptor.Size)
        {
            throw new DigestMismatchException($"{File.Path}: blob {descriptor.Digest} has {size} bytes, its descriptor says {descriptor.Size}");
        }

        Stream inner = source.Bytes is { } bytes ? new MemoryStream(bytes, writable: false) : File.Open(source.EntryName!);
        return new VerifyingReadStream(inner, descriptor, File.Path);
    }

    /// <summary>Opens a byte range of a blob, unverified (a client asking for a range verifies the whole itself).</summary>
    internal Stream OpenBlobRange(Digest digest, long offset, long length)
    {
        var source = _blobs[digest];
        return source.Bytes is { } bytes ? new MemoryStream(bytes, (int)offset, (int)length, writable: false) : File.Open(source.EntryName!, offset, length);
    }

    /// <summary>Reads and parses a manifest or index blob (capped at 4 MiB, verified).</summary>
    /// <param name="descriptor">Its descriptor.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The parsed document.</returns>
    public async Task<ManifestDocument> ReadManifestAsync(Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var bytes = await ReadSmallBlobAsync(descriptor, ImageArchiveReader.MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        return ManifestDocument.Parse(bytes, descriptor.MediaType, $"{File.Path}: {descriptor.Digest.Short}");
    }

    /// <summary>Reads a small blob (config, manifest) whole, verified.</summary>
    /// <param name="descriptor">Its descriptor.</param>
    /// <param name="limit">The size cap.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes.</returns>
    public async Task<byte[]> ReadSmallBlobAsync(Descriptor descriptor, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Size > limit)
        {
            throw new InvalidInputException($"{File.Path}: blob {descriptor.Digest.Short} is {descriptor.Size} bytes, more than the {limit}-byte limit for metadata");
        }

        var buffer = new byte[descriptor.Size];
        await using var stream = OpenBlob(descriptor);
        await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (await stream.ReadAsync(new byte[1], cancellationToken).ConfigureAwait(false) != 0)
        {
            throw new DigestMismatchException($"{File.Path}: blob {descriptor.Digest.Short} is longer than its descriptor");
        }

        return buffer;
    }

    /// <summary>Every descriptor an image reaches (indexes, manifests, configs, layers), each once, children before parents.</summary>
    /// <param name="top">The top descriptor.</param>
    /// <param name="cancellationToken">Cancels the walk.</param>
    /// <returns>Descriptors in push order: blobs first, then manifests, the top last.</returns>
    public async Task<IReadOnlyList<Descriptor>> WalkAsync(Descriptor top, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(top);
        var order = new List<Descriptor>();
        var seen = new HashSet<Digest>();
        await VisitAsync(top, 0).ConfigureAwait(false);
        return order;

        async Task VisitAsync(Descriptor descriptor, int depth)
        {
            if (depth > 8 || !seen.Add(descriptor.Digest))
            {
                return;
            }

            if (MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType))
            {
                var document = await ReadManifestAsync(descriptor, cancellationToken).ConfigureAwait(false);
                foreach (var child in document.Manifests.Concat(document.Config is null ? [] : [document.Config]).Concat(document.Layers))
                {
                    await VisitAsync(child, depth + 1).ConfigureAwait(false);
                }
            }

            order.Add(descriptor);
        }
    }

    /// <summary>Hashes every blob an image needs and checks each against its descriptor, before anything is pushed.</summary>
    /// <param name="descriptors">From <see cref="WalkAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that fails with the first problem.</returns>
    /// <exception cref="DigestMismatchException">A blob's bytes do not match.</exception>
    /// <exception cref="InvalidInputException">A blob is missing.</exception>
    public async Task VerifyBlobsAsync(IEnumerable<Descriptor> descriptors, CancellationToken cancellationToken = default)
    {
        await Parallel.ForEachAsync(descriptors, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken }, async (descriptor, token) =>
        {
            await using var stream = OpenBlob(descriptor);
            await stream.CopyToAsync(Stream.Null, 1 << 20, token).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose() => File.Dispose();

    /// <summary>Where a blob's bytes are: an archive entry, or bytes Ferry built.</summary>
    internal sealed record BlobSource(string? EntryName, byte[]? Bytes);

}
