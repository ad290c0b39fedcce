using Ferry.Archives;
using Ferry.Oci;
using Ferry.References;
using Ferry.Referrers;
using Ferry.Registry;
using Ferry.Saving;

namespace Ferry.Transfer.Sources;

/// <summary>Images pulled from registries, honouring the platform selection and a source-registry override (image-tools' <c>-s</c>).</summary>
/// <param name="registry">The registry client.</param>
/// <param name="sourceRegistry">Pull every image from this registry instead; the images keep the names as written.</param>
public sealed class RegistrySource(RegistryClient registry, string? sourceRegistry = null) : IImageSource
{
    private readonly ReferrerDiscovery _discovery = new(registry);

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
        var selected = ImageResolver.TopFor(top, platforms, source);
        return new ImageIdentity(name, selected.Digest) { Config = await ConfigOfAsync(source, selected, cancellationToken).ConfigureAwait(false) };
    }

    /// <summary>The config digest of a selection that is one image: known from the manifest, or one manifest request away in a one-entry index. No blob is read.</summary>
    private async Task<Digest?> ConfigOfAsync(ImageReference source, ManifestDocument selected, CancellationToken cancellationToken)
    {
        if (!selected.IsIndex)
        {
            return selected.Config?.Digest;
        }

        if (selected.Manifests is not [{ } only] || !MediaTypes.IsImageManifest(only.MediaType))
        {
            return null;
        }

        return (await registry.GetManifestAsync(source, only.Digest.ToString(), cancellationToken).ConfigureAwait(false)).Config?.Digest;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Artifacts are looked for as soon as the top manifest is known — its digest and the selected entries' digests are
    /// the subjects — so their requests overlap the child manifests' and configs' instead of following them.
    /// </remarks>
    public async Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(platforms);
        var (name, source) = Names(image);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task<IReadOnlyList<ReferrerArtifact>>? discovery = null;
        Digest? original = null;
        var store = new Store(registry, source)
        {
            OnTop = top =>
            {
                original = top.Digest;
                discovery = Referrers ? _discovery.DiscoverAsync(source, SubjectsOf(top, platforms, source), failed.Token) : null;
            },
        };
        try
        {
            var resolved = await ImageResolver.ResolveAsync(name, source, store, platforms, cancellationToken).ConfigureAwait(false);
            if (discovery is null)
            {
                return resolved;
            }

            var artifacts = await discovery.ConfigureAwait(false);
            if (resolved.IsSubset && original is { } index && await _discovery.HasTagAsync(source, ReferrerArtifact.CosignTag(index, "sig"), cancellationToken).ConfigureAwait(false))
            {
                Diagnostics.Log.SubsetDropsIndexSignature(registry.Logger, name.ToString(), index.ToString(), ReferrerArtifact.CosignTag(index, "sig"));
            }

            return resolved with { Artifacts = artifacts };
        }
        catch
        {
            await failed.CancelAsync().ConfigureAwait(false);
            if (discovery is not null)
            {
                await discovery.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            }

            throw;
        }
    }

    /// <summary>What artifacts may refer to, known from the top manifest alone: it (unless the selection makes a subset index) and the selected platform entries.</summary>
    private static IReadOnlyList<Digest> SubjectsOf(ManifestDocument top, PlatformSelection platforms, ImageReference source)
    {
        if (!top.IsIndex)
        {
            return [top.Digest];
        }

        var keep = ImageResolver.TopFor(top, platforms, source).Digest == top.Digest ? [top.Digest] : new List<Digest>();
        keep.AddRange(top.Manifests.Where(e => MediaTypes.IsImageManifest(e.MediaType) && e.Platform is not { Os: "unknown" } && (e.Platform is { } p ? platforms.Includes(p) : platforms.IsAll)).Select(e => e.Digest));
        return keep.Distinct().ToList();
    }

    /// <inheritdoc />
    public async Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return await registry.OpenBlobAsync(blob.Source!, blob.Descriptor, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<Stream?> OpenBlobFromAsync(TransferBlob blob, long offset, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return await registry.OpenBlobFromAsync(blob.Source!, blob.Descriptor, offset, cancellationToken).ConfigureAwait(false);
    }

    private (ImageReference Name, ImageReference Source) Names(string image)
    {
        ArgumentNullException.ThrowIfNull(image);
        var name = ImageLocation.RegistryReference(image);
        return (name, sourceRegistry is { Length: > 0 } other ? name.WithRegistry(other) : name);
    }

    private sealed class Store(RegistryClient registry, ImageReference source) : IManifestStore
    {
        /// <summary>Called with the top manifest as soon as it is fetched.</summary>
        public Action<ManifestDocument>? OnTop { get; init; }

        public async Task<ManifestDocument> GetTopAsync(CancellationToken cancellationToken)
        {
            var top = await registry.GetManifestAsync(source, source.ManifestReference, cancellationToken).ConfigureAwait(false);
            OnTop?.Invoke(top);
            return top;
        }

        public bool Has(Descriptor child) => true;

        public Task<ManifestDocument> GetManifestAsync(Descriptor child, CancellationToken cancellationToken) => registry.GetManifestAsync(source, child.Digest.ToString(), cancellationToken);

        public async Task<ReadOnlyMemory<byte>> GetConfigAsync(Descriptor config, CancellationToken cancellationToken) => await registry.GetBlobBytesAsync(source, config, cancellationToken).ConfigureAwait(false);
    }
}
