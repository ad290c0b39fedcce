using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.Referrers;
using Ferry.References;

namespace Ferry.Serving;

/// <summary>A manifest or index as <c>ferry serve</c> answers it: its descriptor (media type, digest, size) and bytes.</summary>
/// <param name="Descriptor">What it is.</param>
/// <param name="Content">Its bytes, verified.</param>
public sealed record ServedManifest(Descriptor Descriptor, byte[] Content);

/// <summary>
/// One or more archives seen as the content of a read-only registry (<c>ferry serve</c>): every named image is a
/// repository (the name without its registry host) and a tag, every manifest and blob is found by digest. Tar
/// archives and layout directories are read in place at their offsets; a compressed archive is unpacked once to a
/// spool. A name held by two archives at two digests is refused when the store opens, naming both.
/// </summary>
public sealed class BundleStore : IDisposable
{
    private readonly List<ImageArchive> _archives;
    private readonly SortedDictionary<string, SortedDictionary<string, (ImageArchive Archive, Descriptor Top)>> _repositories;
    private readonly Dictionary<Digest, (ImageArchive Archive, Descriptor Descriptor)> _manifests;
    private readonly Dictionary<Digest, (ImageArchive Archive, Descriptor Descriptor)> _blobs;
    private Dictionary<(string, Digest), List<ReferrerDescriptor>> _referrers = [];

    private BundleStore(
        List<ImageArchive> archives,
        SortedDictionary<string, SortedDictionary<string, (ImageArchive, Descriptor)>> repositories,
        Dictionary<Digest, (ImageArchive, Descriptor)> manifests,
        Dictionary<Digest, (ImageArchive, Descriptor)> blobs)
    {
        _archives = archives;
        _repositories = repositories;
        _manifests = manifests;
        _blobs = blobs;
    }

    /// <summary>The repositories, in name order.</summary>
    public IReadOnlyList<string> Repositories => [.. _repositories.Keys];

    /// <summary>How many tagged images the store serves (the archives' images; cosign's signature and attestation tags beside them are not counted).</summary>
    public int ImageCount { get; private init; }

    /// <summary>The bytes of all blobs served (layers and configs), each once.</summary>
    public long BlobBytes => _blobs.Values.Sum(b => b.Descriptor.Size);

    /// <summary>What opening the archives warned about (formats read by conversion, images without names).</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = [];

    /// <summary>Opens the archives (any format Ferry reads; the first part of a split archive stands for all).</summary>
    /// <param name="archives">The archives.</param>
    /// <param name="cancellationToken">Cancels the opening.</param>
    /// <returns>The store; dispose it.</returns>
    /// <exception cref="InvalidInputException">An archive is unreadable, or a name is held at two digests.</exception>
    public static Task<BundleStore> OpenAsync(IReadOnlyList<string> archives, CancellationToken cancellationToken = default) => OpenAsync(archives, null, cancellationToken);

    /// <summary>Opens the archives with the given limits.</summary>
    /// <param name="archives">The archives.</param>
    /// <param name="limits">How far an archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the opening.</param>
    /// <returns>The store; dispose it.</returns>
    /// <exception cref="InvalidInputException">An archive is unreadable, or a name is held at two digests.</exception>
    public static async Task<BundleStore> OpenAsync(IReadOnlyList<string> archives, ArchiveLimits? limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archives);
        if (archives.Count == 0)
        {
            throw new InvalidInputException("no archive given");
        }

        var opened = new List<ImageArchive>();
        try
        {
            var repositories = new SortedDictionary<string, SortedDictionary<string, (ImageArchive, Descriptor)>>(StringComparer.Ordinal);
            var manifests = new Dictionary<Digest, (ImageArchive, Descriptor)>();
            var blobs = new Dictionary<Digest, (ImageArchive, Descriptor)>();
            var warnings = new List<string>();
            var images = 0;
            var referrers = new Dictionary<(string, Digest), List<ReferrerDescriptor>>();
            var claims = new ImageNameClaims("serve one of them");
            foreach (var path in archives)
            {
                var archive = await ImageArchive.OpenAsync(path, limits, cancellationToken).ConfigureAwait(false);
                opened.Add(archive);
                warnings.AddRange(archive.Warnings);
                if (archive.File.Compression is not ("none" or "directory"))
                {
                    warnings.Add($"{archive.File.Path} is {archive.File.Compression}-compressed: it was unpacked once to a temporary spool, removed when serving stops (an uncompressed tar is served in place)");
                }

                foreach (var image in archive.Images)
                {
                    foreach (var descriptor in await archive.WalkAsync(image.Top, cancellationToken).ConfigureAwait(false))
                    {
                        var isManifest = MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType);
                        if (isManifest)
                        {
                            manifests.TryAdd(descriptor.Digest, (archive, descriptor));
                        }
                        else if (archive.Contains(descriptor.Digest))
                        {
                            blobs.TryAdd(descriptor.Digest, (archive, descriptor));
                        }
                    }

                    if (image.Name is null || !ImageReference.TryParse(image.Name, out var name, out _) || name!.Tag is null)
                    {
                        warnings.Add($"{archive.File.Path}: an image without a tagged name ({image.Top.Digest.Short}) is served by digest only");
                        continue;
                    }

                    if (!repositories.TryGetValue(name.Repository, out var tags))
                    {
                        repositories[name.Repository] = tags = new SortedDictionary<string, (ImageArchive, Descriptor)>(StringComparer.Ordinal);
                    }

                    if (claims.Claim($"{name.Repository}:{name.Tag}", image.Top.Digest, archive.File.Path))
                    {
                        images += tags.TryAdd(name.Tag, (archive, image.Top)) ? 1 : 0;
                    }
                }

                await AddArtifactsAsync(archive, repositories, manifests, blobs, referrers, cancellationToken).ConfigureAwait(false);
            }

            return new BundleStore(opened, repositories, manifests, blobs) { Warnings = warnings, _referrers = referrers, ImageCount = images };
        }
        catch
        {
            foreach (var archive in opened)
            {
                archive.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// The artifacts an archive carries with its images: their manifests and blobs served like the images', cosign's
    /// tags listed, and those with a <c>subject</c> answered by the referrers API.
    /// </summary>
    private static async Task AddArtifactsAsync(
        ImageArchive archive,
        SortedDictionary<string, SortedDictionary<string, (ImageArchive, Descriptor)>> repositories,
        Dictionary<Digest, (ImageArchive, Descriptor)> manifests,
        Dictionary<Digest, (ImageArchive, Descriptor)> blobs,
        Dictionary<(string, Digest), List<ReferrerDescriptor>> referrers,
        CancellationToken cancellationToken)
    {
        foreach (var artifact in archive.Artifacts)
        {
            if (!ImageReference.TryParse(artifact.Link.Repository, out var name, out _) || !repositories.TryGetValue(name!.Repository, out var tags))
            {
                continue; // an artifact of no served image
            }

            var manifest = await archive.ReadManifestAsync(artifact.Descriptor, cancellationToken).ConfigureAwait(false);
            manifests.TryAdd(artifact.Descriptor.Digest, (archive, artifact.Descriptor));
            foreach (var blob in manifest.Layers.Concat(manifest.Config is null ? [] : [manifest.Config]).Where(b => archive.Contains(b.Digest)))
            {
                blobs.TryAdd(blob.Digest, (archive, blob));
            }

            if (artifact.Link.Tag is { } tag)
            {
                tags.TryAdd(tag, (archive, artifact.Descriptor));
            }

            if (manifest.Subject?.Digest == artifact.Link.Subject)
            {
                var list = referrers.TryGetValue((name.Repository, artifact.Link.Subject), out var found) ? found : referrers[(name.Repository, artifact.Link.Subject)] = [];
                if (list.All(r => r.Descriptor.Digest != artifact.Descriptor.Digest))
                {
                    list.Add(ReferrersIndex.EntryFor(new ReferrerArtifact(manifest, artifact.Link.Subject, artifact.Link.Tag)));
                }
            }
        }
    }

    /// <summary>The referrers of a manifest (artifacts whose <c>subject</c> is it), for the OCI 1.1 referrers API; empty when none.</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="subject">The manifest's digest.</param>
    /// <returns>The entries.</returns>
    public IReadOnlyList<ReferrerDescriptor> ReferrersOf(string repository, Digest subject) =>
        _referrers.TryGetValue((repository, subject), out var list) ? list : [];

    /// <summary>Whether a repository is served.</summary>
    /// <param name="repository">Its name (<c>library/nginx</c>).</param>
    /// <returns><see langword="true"/> when it is.</returns>
    public bool HasRepository(string repository) => _repositories.ContainsKey(repository);

    /// <summary>A repository's tags in order, or <see langword="null"/> when it is not served.</summary>
    /// <param name="repository">Its name.</param>
    /// <returns>The tags.</returns>
    public IReadOnlyList<string>? TagsOf(string repository) => _repositories.TryGetValue(repository, out var tags) ? [.. tags.Keys] : null;

    /// <summary>Finds a manifest by tag or digest in a repository; <see langword="null"/> when there is none.</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="reference">A tag or a digest.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The manifest, read and verified.</returns>
    public async Task<ServedManifest?> FindManifestAsync(string repository, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        (ImageArchive Archive, Descriptor Descriptor) found;
        if (Digest.TryParse(reference, out var digest))
        {
            if (!HasRepository(repository) || !_manifests.TryGetValue(digest, out found))
            {
                return null;
            }
        }
        else if (!_repositories.TryGetValue(repository, out var tags) || !tags.TryGetValue(reference, out found))
        {
            return null;
        }

        var bytes = await found.Archive.ReadSmallBlobAsync(found.Descriptor, 4 << 20, cancellationToken).ConfigureAwait(false);
        return new ServedManifest(found.Descriptor, bytes);
    }

    /// <summary>A blob's descriptor, or <see langword="null"/> when the store has no such blob (or the repository is not served).</summary>
    /// <param name="repository">The repository.</param>
    /// <param name="digest">The digest.</param>
    /// <returns>The descriptor.</returns>
    public Descriptor? FindBlob(string repository, Digest digest) =>
        HasRepository(repository) && (_blobs.TryGetValue(digest, out var blob) || _manifests.TryGetValue(digest, out blob)) ? blob.Descriptor : null;

    /// <summary>Opens a whole blob through a verifying stream (it fails at its end when the bytes do not match).</summary>
    /// <param name="descriptor">From <see cref="FindBlob"/>.</param>
    /// <returns>The stream.</returns>
    public Stream OpenBlob(Descriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return ArchiveOf(descriptor.Digest).OpenBlob(descriptor);
    }

    /// <summary>Opens a byte range of a blob, read in place (a client asking for a range verifies the whole blob itself).</summary>
    /// <param name="descriptor">From <see cref="FindBlob"/>.</param>
    /// <param name="offset">The first byte.</param>
    /// <param name="length">How many bytes.</param>
    /// <returns>The stream.</returns>
    public Stream OpenBlobRange(Descriptor descriptor, long offset, long length)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        return ArchiveOf(descriptor.Digest).OpenBlobRange(descriptor.Digest, offset, length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var archive in _archives)
        {
            archive.Dispose();
        }
    }

    private ImageArchive ArchiveOf(Digest digest) =>
        _blobs.TryGetValue(digest, out var blob) || _manifests.TryGetValue(digest, out blob)
            ? blob.Archive
            : throw new InvalidInputException($"blob {digest} is not served");
}
