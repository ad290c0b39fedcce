using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Transfer;
using Ferry.Transfer.Sources;

namespace Ferry.Inspecting;

/// <summary>What <c>ferry inspect</c> shows of one image.</summary>
/// <param name="Name">The name in the archive, or <see langword="null"/>.</param>
/// <param name="Digest">The manifest or index digest.</param>
/// <param name="MediaType">Its media type.</param>
/// <param name="Platforms">The platforms it holds.</param>
/// <param name="Layers">Its layer count (all platforms).</param>
/// <param name="Size">The bytes of all its blobs, manifests included.</param>
/// <param name="BuiltFromLayers">Whether the manifest was built by Ferry (no registry manifest in the archive).</param>
public sealed record InspectedImage(string? Name, Digest Digest, string MediaType, IReadOnlyList<string> Platforms, int Layers, long Size, bool BuiltFromLayers)
{
    /// <summary>Bytes in the archive that only this image uses: what leaving it out would save.</summary>
    public long UniqueBytes { get; init; }

    /// <summary>Bytes in the archive this image shares with at least one other image (stored once for all of them).</summary>
    public long SharedBytes { get; init; }

    /// <summary>The signatures, attestations, SBOMs and other artifacts carried with the image.</summary>
    public IReadOnlyList<InspectedArtifact> Artifacts { get; init; } = [];

    /// <summary>
    /// For an artifact that travels as an image (a Helm chart, a file, WASM): what it is — <c>helm chart mychart
    /// 0.1.0</c>, or its artifact type — in place of platforms, which it has none of; <see langword="null"/> for a
    /// container image.
    /// </summary>
    public string? Artifact { get; init; }

    /// <summary>For an artifact: its artifact type (the manifest's, else its config's media type).</summary>
    public string? ArtifactType { get; init; }
}

/// <summary>A signature, attestation, SBOM or other artifact carried with an image.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="ArtifactType">Its artifact type (or config media type).</param>
/// <param name="Digest">Its manifest's digest.</param>
/// <param name="Subject">The manifest it refers to.</param>
/// <param name="Tag">The tag it goes back under (cosign's scheme), or <see langword="null"/> for a referrer by digest.</param>
/// <param name="Size">Its bytes: manifest, config and layers.</param>
public sealed record InspectedArtifact(Referrers.ArtifactKind Kind, string ArtifactType, Digest Digest, Digest Subject, string? Tag, long Size);

/// <summary>What <c>ferry inspect</c> shows of an archive.</summary>
/// <param name="Path">The archive.</param>
/// <param name="Format"><c>oci-layout</c> or <c>docker-archive</c>.</param>
/// <param name="Compression">The outer compression.</param>
/// <param name="Images">The images.</param>
/// <param name="UniqueBlobs">Distinct blobs over all images (shared ones counted once).</param>
/// <param name="UniqueBytes">Their total size.</param>
public sealed record InspectResult(string Path, string Format, string Compression, IReadOnlyList<InspectedImage> Images, int UniqueBlobs, long UniqueBytes)
{
    /// <summary>For a partial archive: the layers it leaves out and the excluded images they come from.</summary>
    public IReadOnlyList<Archives.Format.OmittedBlob> Omitted { get; init; } = [];

    /// <summary>Whether the bundle carries its own signature (<c>index.json.sig</c>); <c>ferry verify --key</c> checks it.</summary>
    public bool Signed { get; init; }

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, (nameof(Path), Path), (nameof(Format), Format), (nameof(Compression), Compression), (nameof(Images), Images.Select(i => i.Name ?? i.Digest.ToString())), (nameof(UniqueBlobs), UniqueBlobs), (nameof(UniqueBytes), UniqueBytes), (nameof(Omitted), Omitted), (nameof(Signed), Signed));
}

/// <summary>Reads an archive's images, platforms, sizes and layers without pushing or extracting anything.</summary>
public static class ArchiveInspector
{
    /// <summary>Inspects an archive.</summary>
    /// <param name="path">Any archive Ferry reads.</param>
    /// <param name="cancellationToken">Cancels the inspection.</param>
    /// <returns>What it holds.</returns>
    public static Task<InspectResult> InspectAsync(string path, CancellationToken cancellationToken = default) => InspectAsync(path, null, cancellationToken);

    /// <summary>Inspects an archive with the given limits.</summary>
    /// <param name="path">Any archive Ferry reads.</param>
    /// <param name="limits">How far the archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the inspection.</param>
    /// <returns>What it holds.</returns>
    public static async Task<InspectResult> InspectAsync(string path, ArchiveLimits? limits, CancellationToken cancellationToken = default)
    {
        using var archive = await ImageArchive.OpenAsync(path, limits, cancellationToken).ConfigureAwait(false);
        return await InspectAsync(archive, path, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Inspects an archive read from a stream (stdin, a pipe); it is copied into a temporary file first.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How the result names it.</param>
    /// <param name="cancellationToken">Cancels the inspection.</param>
    /// <returns>What it holds.</returns>
    public static Task<InspectResult> InspectAsync(Stream input, string displayName, CancellationToken cancellationToken = default) => InspectAsync(input, displayName, null, cancellationToken);

    /// <summary>Inspects an archive read from a stream with the given limits.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How the result names it.</param>
    /// <param name="limits">How far the archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the inspection.</param>
    /// <returns>What it holds.</returns>
    public static async Task<InspectResult> InspectAsync(Stream input, string displayName, ArchiveLimits? limits, CancellationToken cancellationToken = default)
    {
        using var archive = await ImageArchive.OpenAsync(input, displayName, limits, cancellationToken).ConfigureAwait(false);
        return await InspectAsync(archive, displayName, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Inspects an open archive: each image resolved as a transfer would resolve it (every platform the archive holds,
    /// its artifacts), one plan over all of them, and the sums read off the plan: a blob one image uses is that image's
    /// own, a blob several use is shared (stored once).
    /// </summary>
    internal static async Task<InspectResult> InspectAsync(ImageArchive archive, string path, CancellationToken cancellationToken)
    {
        var planned = new List<PlannedImage>();
        foreach (var (image, position) in archive.Images.Select((image, i) => (image, i + 1)))
        {
            var resolved = await ArchiveSource.DescribeAsync(archive, image, cancellationToken).ConfigureAwait(false);
            planned.Add(new PlannedImage(resolved, position, image.Name ?? image.Top.Digest.ToString()));
        }

        var omitted = archive.Omitted.Values.OrderBy(o => o.Digest.ToString(), StringComparer.Ordinal).ToList();
        var plan = TransferPlan.Create(planned, omitted, planned.Count);
        var images = archive.Images.Zip(planned, (archived, p) => Describe(archived, p.Image, plan, archive)).ToList();
        return new InspectResult(path, archive.Format, archive.File.Compression, images, plan.Blobs.Count, plan.Blobs.Sum(b => b.Descriptor.Size))
        {
            Omitted = omitted,
            Signed = archive.File.Contains(Signing.BundleSignature.FileName),
        };
    }

    private static InspectedImage Describe(ArchivedImage archived, ResolvedImage image, TransferPlan plan, ImageArchive archive)
    {
        var own = image.Platforms.SelectMany(p => p.Manifest.Layers.Append(p.Manifest.Config!).Append(p.Manifest.Descriptor)).Append(image.Top.Descriptor).DistinctBy(d => d.Digest).ToList();
        var carried = own.Concat(image.Artifacts.SelectMany(a => a.Blobs.Append(a.Manifest.Descriptor))).DistinctBy(d => d.Digest).Where(d => !archive.Omitted.ContainsKey(d.Digest)).ToList();
        var primary = image.Primary.Manifest;
        return new InspectedImage(
            archived.Name,
            archived.Top.Digest,
            archived.Top.MediaType,
            image.IsContainerImage ? image.Platforms.Select(p => p.Platform.ToString()).ToList() : [],
            image.Platforms.Sum(p => p.Manifest.Layers.Count),
            own.Sum(d => d.Size),
            archived.BuiltFromLayers)
        {
            UniqueBytes = carried.Where(d => plan.PositionsOf(d.Digest).Count == 1).Sum(d => d.Size),
            SharedBytes = carried.Where(d => plan.PositionsOf(d.Digest).Count > 1).Sum(d => d.Size),
            Artifacts = image.Artifacts.Select(a => new InspectedArtifact(a.Kind, a.ArtifactType, a.Manifest.Digest, a.Subject, a.Tag, a.TotalBytes)).ToList(),
            Artifact = image.IsContainerImage ? null : ArtifactDescription.Describe(primary, image.Primary.Config.Span),
            ArtifactType = image.IsContainerImage ? null : ArtifactDescription.TypeOf(primary),
        };
    }
}
