using Ferry.Oci;
using Ferry.Referrers;
using Ferry.References;

namespace Ferry.Transfer;

/// <summary>One platform's image: its manifest and config, both verified.</summary>
/// <param name="Platform">The platform (from the index entry, or the config).</param>
/// <param name="Manifest">The image manifest with its exact bytes.</param>
/// <param name="Config">The config bytes.</param>
public sealed record PlatformImage(Platform Platform, ManifestDocument Manifest, ReadOnlyMemory<byte> Config);

/// <summary>An image reference resolved against its registry: the top-level object saved and its platforms.</summary>
/// <param name="Reference">The reference as requested (normalised): the name the archive records.</param>
/// <param name="Top">What the archive's index.json points at: the original index, a subset index, or the manifest.</param>
/// <param name="Platforms">The selected platform images, in index order.</param>
/// <param name="Primary">The platform image listed in manifest.json for docker load.</param>
/// <param name="IsSubset">Whether some platforms of the original index were left out (so <see cref="Top"/> is a new index).</param>
/// <param name="Source">Where it was pulled from (differs from <paramref name="Reference"/> with a source-registry override).</param>
public sealed record ResolvedImage(ImageReference Reference, ManifestDocument Top, IReadOnlyList<PlatformImage> Platforms, PlatformImage Primary, bool IsSubset, ImageReference Source)
{
    /// <summary>The signatures, attestations, SBOMs and other artifacts that refer to the image's manifests, carried with it.</summary>
    public IReadOnlyList<ReferrerArtifact> Artifacts { get; init; } = [];

    /// <summary>
    /// Whether a container runtime can run it: its primary manifest has an image config. Otherwise it is an artifact
    /// (a Helm chart, a file, WASM, an SBOM addressed directly), which travels like an image — saved, pushed, merged,
    /// served, verified — but is never listed for <c>docker load</c> nor sent to an Engine.
    /// </summary>
    public bool IsContainerImage => MediaTypes.IsImageConfig(Primary.Manifest.Config!.MediaType);

    /// <summary>The layers of every saved platform (a layer shared by two platforms appears twice).</summary>
    public IEnumerable<Descriptor> LayerDescriptors => Platforms.SelectMany(p => p.Manifest.Layers);

    /// <summary>The total size of all the image's blobs, its artifacts' included (each counted once).</summary>
    public long TotalBytes =>
        Platforms.SelectMany(p => p.Manifest.Layers.Append(p.Manifest.Config!).Append(p.Manifest.Descriptor))
            .Concat(Artifacts.SelectMany(a => a.Blobs.Append(a.Manifest.Descriptor)))
            .Append(Top.Descriptor).DistinctBy(d => d.Digest).Sum(d => d.Size);

    /// <summary>The digests of the manifests artifacts may refer to: the top (unless it is a subset index Ferry made) and each image manifest.</summary>
    public IReadOnlyList<Digest> SubjectDigests =>
        (IsSubset ? [] : new[] { Top.Digest }).Concat(Platforms.Where(p => MediaTypes.IsImageConfig(p.Manifest.Config!.MediaType)).Select(p => p.Manifest.Digest)).Distinct().ToList();
}
