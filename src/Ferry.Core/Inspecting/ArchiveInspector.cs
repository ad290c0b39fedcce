using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;

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

    internal static async Task<InspectResult> InspectAsync(ImageArchive archive, string path, CancellationToken cancellationToken)
    {
        var images = new List<InspectedImage>();
        var unique = new Dictionary<Digest, long>();
        var blobsOf = new List<HashSet<Digest>>();
        foreach (var image in archive.Images)
        {
            var descriptors = await archive.WalkAsync(image.Top, cancellationToken).ConfigureAwait(false);
            blobsOf.Add([.. descriptors.Select(d => d.Digest).Where(d => !archive.Omitted.ContainsKey(d))]);
            var platforms = new List<string>();
            var layers = 0;
            foreach (var descriptor in descriptors)
            {
                unique[descriptor.Digest] = descriptor.Size;
                if (!MediaTypes.IsImageManifest(descriptor.MediaType))
                {
                    continue;
                }

                var manifest = await archive.ReadManifestAsync(descriptor, cancellationToken).ConfigureAwait(false);
                layers += manifest.Layers.Count;
                if (manifest.Config is { } config)
                {
                    var bytes = await archive.ReadSmallBlobAsync(config, 8 * 1024 * 1024, cancellationToken).ConfigureAwait(false);
                    platforms.Add(ImageConfigInfo.Parse(bytes, descriptor.Digest.Short).Platform.ToString());
                }
            }

            var artifacts = new List<InspectedArtifact>();
            if (image.Name is { } name && References.ImageReference.TryParse(name, out var reference, out _))
            {
                var subjects = descriptors.Where(d => MediaTypes.IsImageManifest(d.MediaType) || MediaTypes.IsIndex(d.MediaType)).Select(d => d.Digest).ToHashSet();
                foreach (var artifact in await Transfer.Sources.ArchiveSource.ArtifactsOfAsync(archive, reference!.Name, subjects, cancellationToken).ConfigureAwait(false))
                {
                    foreach (var blob in artifact.Blobs.Append(artifact.Manifest.Descriptor))
                    {
                        unique[blob.Digest] = blob.Size;
                        blobsOf[^1].Add(blob.Digest);
                    }

                    artifacts.Add(new InspectedArtifact(artifact.Kind, artifact.ArtifactType, artifact.Manifest.Digest, artifact.Subject, artifact.Tag, artifact.TotalBytes));
                }
            }

            images.Add(new InspectedImage(image.Name, image.Top.Digest, image.Top.MediaType, platforms, layers, descriptors.Sum(d => d.Size), image.BuiltFromLayers) { Artifacts = artifacts });
        }

        // Who uses what: a blob used by one image is that image's own; one used by several is shared (stored once).
        var users = blobsOf.SelectMany(b => b).GroupBy(d => d).ToDictionary(g => g.Key, g => g.Count());
        images = [.. images.Select((image, i) => image with
        {
            UniqueBytes = blobsOf[i].Where(d => users[d] == 1).Sum(d => unique[d]),
            SharedBytes = blobsOf[i].Where(d => users[d] > 1).Sum(d => unique[d]),
        })];

        var omitted = archive.Omitted.Values.OrderBy(o => o.Digest.ToString(), StringComparer.Ordinal).ToList();
        var present = unique.Where(u => !archive.Omitted.ContainsKey(u.Key)).ToList();
        return new InspectResult(path, archive.Format, archive.File.Compression, images, present.Count, present.Sum(u => u.Value))
        {
            Omitted = omitted,
            Signed = archive.File.Contains(Signing.BundleSignature.FileName),
        };
    }
}
