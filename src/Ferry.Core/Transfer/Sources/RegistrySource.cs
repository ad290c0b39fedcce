using Ferry.Archives;
using Ferry.Oci;
using Ferry.Referrers;
using Ferry.References;
using Ferry.Registry;
using Ferry.Saving;

namespace Ferry.Transfer.Sources;

/// <summary>Images pulled from registries, honouring the platform selection and a source-registry override (image-tools' <c>-s</c>).</summary>
/// <param name="registry">The registry client.</param>
/// <param name="sourceRegistry">Pull every image from this registry instead; the images keep the names as written.</param>
public sealed class RegistrySource(RegistryClient registry, string? sourceRegistry = null) : IImageSource
{
    /// <summary>
    /// Whether each image's signatures, attestations, SBOMs and other artifacts are found (referrers API, its fallback
    /// tag, cosign's tags) and carried with it. On by default.
    /// </summary>
    public bool Referrers { get; init; } = true;

    /// <inheritdoc />
    public async Task<ImageIdentity?> PeekAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        var (name, source) = Names(image);
        var top = await registry.GetManifestAsync(source, source.ManifestReference, cancellationToken).ConfigureAwait(false);
        return new ImageIdentity(name, ImageResolver.TopFor(top, platforms, source).Digest);
    }

    /// <inheritdoc />
    public async Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        var (name, source) = Names(image);
        var resolved = await ImageResolver.ResolveAsync(name, source, new Store(registry, source), platforms, cancellationToken).ConfigureAwait(false);
        return Referrers
            ? resolved with { Artifacts = await ReferrerDiscovery.DiscoverAsync(registry, source, resolved.SubjectDigests, cancellationToken).ConfigureAwait(false) }
            : resolved;
    }

    /// <inheritdoc />
    public async Task<Stream> OpenBlobAsync(LayoutBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return await registry.OpenBlobAsync(blob.Source!, blob.Descriptor, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenBlobFromAsync(LayoutBlob blob, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return await registry.OpenBlobFromAsync(blob.Source!, blob.Descriptor, offset, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> TryPlaceBlobAsync(LayoutBlob blob, string path, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return registry.Cache is { } cache && await cache.TryLinkAsync(blob.Descriptor, path, cancellationToken).ConfigureAwait(false);
    }

    private (ImageReference Name, ImageReference Source) Names(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var name = ImageReference.Parse(image);
        return (name, sourceRegistry is { Length: > 0 } other ? name.WithRegistry(other) : name);
    }

    private sealed class Store(RegistryClient registry, ImageReference source) : IManifestStore
    {
        public Task<ManifestDocument> GetTopAsync(CancellationToken cancellationToken) => registry.GetManifestAsync(source, source.ManifestReference, cancellationToken);

        public bool Has(Descriptor child) => true;

        public Task<ManifestDocument> GetManifestAsync(Descriptor child, CancellationToken cancellationToken) => registry.GetManifestAsync(source, child.Digest.ToString(), cancellationToken);

        public async Task<ReadOnlyMemory<byte>> GetConfigAsync(Descriptor config, CancellationToken cancellationToken) => await registry.GetBlobBytesAsync(source, config, cancellationToken).ConfigureAwait(false);
    }
}
