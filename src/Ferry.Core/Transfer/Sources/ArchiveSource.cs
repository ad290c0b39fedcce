using System.Collections.Concurrent;
using System.Globalization;
using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Referrers;
using Ferry.Saving;
using Ferry.Signing;

namespace Ferry.Transfer.Sources;

/// <summary>Which images of the archives a run takes, and under what name.</summary>
public sealed record ArchiveSelection
{
    /// <summary>Only these images (full or short references, as <c>docker</c> names them); every image when empty.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    /// <summary>The name of the one selected image (<c>--as</c>): also the way to name an unnamed image.</summary>
    public string? As { get; init; }

    /// <summary>Whether the artifacts the archive carries with each image (signatures, attestations, SBOMs) go with it. On by default.</summary>
    public bool Referrers { get; init; } = true;

    /// <summary>How far an archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</summary>
    public ArchiveLimits? Limits { get; init; }

    /// <summary>What the refusal of one name at two digests tells the user to do (the rule is <see cref="ImageNameClaims"/>'s).</summary>
    internal string NameConflictAdvice { get; init; } = "load one of them (Images, or one archive at a time)";
}

/// <summary>
/// Images read from archives in any format Ferry reads (Ferry's, OCI layouts and archives, docker save of every
/// version, podman, skopeo, crane; tar, gzip, zstd or a directory; a file or a stream). Each image is named as the
/// archive names it (or by <see cref="ArchiveSelection.As"/>); before an image counts as resolved, every blob it needs
/// is hashed against its descriptor — once per run however many images share it — so nothing of a broken image moves.
/// </summary>
public sealed class ArchiveSource : IImageSource, IDisposable
{
    private readonly IReadOnlyList<ImageArchive> _archives;
    private readonly List<(ImageArchive Archive, ArchivedImage Image)> _images;
    private readonly string? _as;
    private readonly bool _referrers;
    private readonly ConcurrentDictionary<Digest, Lazy<Task>> _verified = new();
    private readonly SemaphoreSlim _hashing = new(Environment.ProcessorCount);
    private readonly ConcurrentDictionary<ImageArchive, Lazy<Task<BundleSignatureState>>> _bundleSigned = new();

    private ArchiveSource(IReadOnlyList<ImageArchive> archives, List<(ImageArchive Archive, ArchivedImage Image)> images, ArchiveSelection selection)
    {
        _archives = archives;
        _images = images;
        _as = selection.As;
        _referrers = selection.Referrers;
        Keys = Enumerable.Range(0, images.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
    }

    /// <inheritdoc />
    /// <remarks>An archive holds what its maker chose: every platform in it, unless a selection is named.</remarks>
    public PlatformSelection DefaultPlatforms => PlatformSelection.All;

    /// <summary>The selected images, as keys for <see cref="TransferRequest.Images"/>.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>Opens archives (<c>-</c> reads <paramref name="stdin"/>) and selects images.</summary>
    /// <param name="paths">Archive paths; <c>-</c> for the stream.</param>
    /// <param name="selection">Which images, under what name.</param>
    /// <param name="stdin">The stream <c>-</c> stands for.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <returns>The source; dispose it to remove temporary files.</returns>
    /// <exception cref="InvalidInputException">An archive cannot be read, a selected image is not in any, or <c>--as</c> names several images.</exception>
    public static async Task<ArchiveSource> OpenAsync(IReadOnlyList<string> paths, ArchiveSelection? selection = null, Stream? stdin = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        selection ??= new ArchiveSelection();
        var archives = new List<ImageArchive>();
        try
        {
            foreach (var path in paths)
            {
                archives.Add(path == "-"
                    ? await ImageArchive.OpenAsync(stdin ?? throw new InvalidInputException("- reads an archive from stdin, and there is none"), "stdin", selection.Limits, cancellationToken).ConfigureAwait(false)
                    : await ImageArchive.OpenAsync(path, selection.Limits, cancellationToken).ConfigureAwait(false));
            }

            var images = archives.SelectMany(a => a.Images.Select(i => (Archive: a, Image: i))).ToList();
            if (selection.Images.Count > 0)
            {
                // A name, or the digest of the image's top manifest (how an unnamed image is selected).
                var wanted = selection.Images.Select(w => (Text: w, Reference: Digest.TryParse(w, out _) ? w : ImageReference.Parse(w).ToString())).ToList();
                foreach (var (text, reference) in wanted.Where(w => !images.Any(i => Selects(w.Reference, i.Image))))
                {
                    throw new InvalidInputException($"image {text} (Images): no image of that name or digest in {string.Join(", ", paths)}");
                }

                images = images.Where(i => wanted.Any(w => Selects(w.Reference, i.Image))).ToList();
            }

            // A name two archives hold: one image at one digest, refused at two (the rule merge and serve follow too).
            var claims = new ImageNameClaims(selection.NameConflictAdvice);
            images = images.Where(i => i.Image.Name is not { } name || claims.Claim(name, i.Image.Top.Digest, i.Archive.File.Path)).ToList();

            if (selection.As is { } nameAs)
            {
                ImageReference.Parse(nameAs);
                if (images.Select(i => i.Image.Top.Digest).Distinct().Count() != 1)
                {
                    throw new InvalidInputException($"{nameAs} (As) names one image, but {images.Count} are selected; choose one (Images)");
                }

                images = [images[0]];
            }

            if (images.Count == 0)
            {
                throw new InvalidInputException($"{string.Join(", ", paths)}: no image in the archive");
            }

            return new ArchiveSource(archives, images, selection);
        }
        catch
        {
            foreach (var archive in archives)
            {
                archive.Dispose();
            }

            throw;
        }
    }

    /// <summary>The archive an image key comes from, for messages and failed lists.</summary>
    /// <param name="key">A key of <see cref="Keys"/>.</param>
    /// <returns>The archive's path.</returns>
    public string ArchiveOf(string key) => Lookup(key).Archive.File.Path;

    /// <summary>How an image key is shown: its name in the archive, or its digest when unnamed.</summary>
    /// <param name="key">A key of <see cref="Keys"/>.</param>
    /// <returns>The description.</returns>
    public string Describe(string key)
    {
        var (_, image) = Lookup(key);
        return image.Name ?? $"(unnamed image {image.Top.Digest.Short})";
    }

    /// <summary>An image's name in its archive (or <see langword="null"/>) and the digest of its top manifest.</summary>
    /// <param name="key">A key of <see cref="Keys"/>.</param>
    /// <returns>Name and digest.</returns>
    internal (string? Name, Digest Digest) Identity(string key)
    {
        var (_, image) = Lookup(key);
        return (image.Name, image.Top.Digest);
    }

    /// <summary>Whether Ferry built the manifest of an image (its archive carries none).</summary>
    /// <param name="key">A key of <see cref="Keys"/>.</param>
    /// <returns><see langword="true"/> for built manifests.</returns>
    public bool IsBuiltFromLayers(string key) => Lookup(key).Image.BuiltFromLayers;

    /// <inheritdoc />
    /// <remarks>Known without reading anything for all platforms (the archive's top digest); otherwise unknown.</remarks>
    public Task<ImageIdentity?> PeekAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(platforms);
        var (_, archived) = Lookup(image);
        return Task.FromResult(platforms.IsAll && (_as ?? archived.Name) is { } name && ImageReference.TryParse(name, out var reference, out _)
            ? new ImageIdentity(reference!, archived.Top.Digest)
            : null);
    }

    /// <inheritdoc />
    public async Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        var (archive, archived) = Lookup(image);
        var text = _as ?? archived.Name ?? throw new InvalidInputException($"{archive.File.Path}: image {archived.Top.Digest.Short} has no name in the archive; name it (As: REGISTRY/REPOSITORY:TAG)");
        var name = ImageReference.Parse(text);
        var resolved = await ImageResolver.ResolveAsync(name, name, new Store(archive, archived.Top), platforms, cancellationToken).ConfigureAwait(false);

        if (_referrers && archived.Name is { } archivedName)
        {
            resolved = resolved with { Artifacts = await ArtifactsOfAsync(archive, ImageReference.Parse(archivedName).Name, resolved.SubjectDigests.ToHashSet(), cancellationToken).ConfigureAwait(false) };
        }

        // Every blob the image needs, hashed before anything of it moves; layers a partial archive leaves out are the sink's to find.
        var blobs = resolved.Platforms.SelectMany(p => p.Manifest.Layers).Concat(resolved.Artifacts.SelectMany(a => a.Blobs))
            .Where(l => !archive.Omitted.ContainsKey(l.Digest)).DistinctBy(l => l.Digest);
        await Task.WhenAll(blobs.Select(d => _verified.GetOrAdd(d.Digest, _ => new Lazy<Task>(() => VerifyAsync(archive, d, cancellationToken))).Value)).ConfigureAwait(false);
        return resolved;
    }

    /// <summary>
    /// Why an image may not go where a signature is required — <see langword="null"/> when a signature by the key vouches
    /// for it: the bundle's own (index.json.sig, checked once per archive), or the image's cosign signature.
    /// </summary>
    /// <param name="key">A key of <see cref="Keys"/>.</param>
    /// <param name="image">The image, resolved.</param>
    /// <param name="policy">The key and identity rule.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The reason it is refused, or <see langword="null"/>.</returns>
    public async Task<string?> CheckSignatureAsync(string key, ResolvedImage image, Signing.SignaturePolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(policy);
        var (archive, archived) = Lookup(key);
        if (await _bundleSigned.GetOrAdd(archive, a => new Lazy<Task<BundleSignatureState>>(() => ArchiveSignatures.BundleAsync(a, policy.Key, cancellationToken))).Value.ConfigureAwait(false) == BundleSignatureState.Valid)
        {
            return null;
        }

        var platforms = image.Top.IsIndex ? image.Platforms.Where(p => MediaTypes.IsImageConfig(p.Manifest.Config!.MediaType)).Select(p => p.Manifest.Digest).ToList() : [];
        var check = await ArchiveSignatures.ImageAsync(archive, archived.Name, image.Top.Digest, platforms, image.Artifacts, policy, cancellationToken).ConfigureAwait(false);
        return check.Verified ? null : $"refused, no valid signature by {policy.Key.Path}: {check.Detail}";
    }

    /// <summary>
    /// An archived image as the archive holds it — every platform it carries, its artifacts, its own top manifest —
    /// resolved by the same rules as a transfer, but without hashing its layers: what <c>inspect</c> shows.
    /// </summary>
    internal static async Task<ResolvedImage> DescribeAsync(ImageArchive archive, ArchivedImage archived, CancellationToken cancellationToken)
    {
        var named = archived.Name is { } text && ImageReference.TryParse(text, out var parsed, out _) ? parsed : null;
        var name = named ?? ImageReference.Parse($"unnamed@{archived.Top.Digest}");
        var resolved = await ImageResolver.ResolveAsync(name, name, new Store(archive, archived.Top), PlatformSelection.All, cancellationToken).ConfigureAwait(false);
        if (resolved.IsSubset)
        {
            resolved = resolved with { Top = await archive.ReadManifestAsync(archived.Top, cancellationToken).ConfigureAwait(false), IsSubset = false };
        }

        return named is null ? resolved : resolved with { Artifacts = await ArtifactsOfAsync(archive, named.Name, resolved.SubjectDigests.ToHashSet(), cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>The artifacts the archive carries for these manifests of a repository, their manifests read and verified.</summary>
    internal static async Task<IReadOnlyList<ReferrerArtifact>> ArtifactsOfAsync(ImageArchive archive, string repository, IReadOnlySet<Digest> subjects, CancellationToken cancellationToken)
    {
        var artifacts = new List<ReferrerArtifact>();
        foreach (var entry in archive.Artifacts.Where(a => a.Link.Repository == repository && subjects.Contains(a.Link.Subject)))
        {
            var manifest = await archive.ReadManifestAsync(entry.Descriptor, cancellationToken).ConfigureAwait(false);
            if (manifest.IsIndex)
            {
                throw new UnsupportedContentException($"{archive.File.Path}: artifact {entry.Descriptor.Digest.Short} of {repository} is an index, which Ferry does not carry");
            }

            artifacts.Add(new ReferrerArtifact(manifest, entry.Link.Subject, entry.Link.Tag));
        }

        return artifacts;
    }

    /// <inheritdoc />
    public Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        var archive = _archives.FirstOrDefault(a => a.Contains(blob.Descriptor.Digest)) ?? _archives[0];
        return Task.FromResult<Stream>(archive.OpenBlob(blob.Descriptor));
    }

    /// <inheritdoc />
    public IReadOnlyList<OmittedBlob> LeftOut(IReadOnlyList<ResolvedImage> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var layers = images.SelectMany(i => i.LayerDescriptors).Select(l => l.Digest).ToHashSet();
        return _archives.SelectMany(a => a.Omitted.Values).Where(o => layers.Contains(o.Digest) && !_archives.Any(a => a.Contains(o.Digest)))
            .DistinctBy(o => o.Digest).OrderBy(o => o.Digest.ToString(), StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var archive in _archives)
        {
            archive.Dispose();
        }

        _hashing.Dispose();
    }

    /// <summary>What <see cref="ArchiveSelection.Images"/> takes to select exactly this image: its name, else its digest.</summary>
    /// <param name="key">A key of <see cref="Keys"/>.</param>
    /// <returns>The selector.</returns>
    public string SelectorOf(string key)
    {
        var (_, image) = Lookup(key);
        return image.Name ?? image.Top.Digest.ToString();
    }

    private static bool Selects(string wanted, ArchivedImage image) =>
        wanted.StartsWith("sha256:", StringComparison.Ordinal) ? image.Top.Digest.ToString() == wanted : SameName(image.Name, wanted);

    private static bool SameName(string? name, string reference) =>
        name is not null && ImageReference.TryParse(name, out var parsed, out _) && parsed!.ToString() == reference;

    private (ImageArchive Archive, ArchivedImage Image) Lookup(string key) =>
        int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i >= 0 && i < _images.Count
            ? _images[i]
            : throw new InvalidInputException($"no image {key} in the archives");

    private async Task VerifyAsync(ImageArchive archive, Descriptor descriptor, CancellationToken cancellationToken)
    {
        await _hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await archive.VerifyBlobsAsync([descriptor], cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _hashing.Release();
        }
    }

    /// <summary>Manifests and configs of one archived image, verified as they are read.</summary>
    internal sealed class Store(ImageArchive archive, Descriptor top) : IManifestStore
    {
        public Task<ManifestDocument> GetTopAsync(CancellationToken cancellationToken) => archive.ReadManifestAsync(top, cancellationToken);

        public bool Has(Descriptor child) => archive.Contains(child.Digest);

        public Task<ManifestDocument> GetManifestAsync(Descriptor child, CancellationToken cancellationToken) => archive.ReadManifestAsync(child, cancellationToken);

        public async Task<ReadOnlyMemory<byte>> GetConfigAsync(Descriptor config, CancellationToken cancellationToken) =>
            await archive.ReadSmallBlobAsync(config, ImageArchiveReader.MaxConfigBytes, cancellationToken).ConfigureAwait(false);
    }
}
