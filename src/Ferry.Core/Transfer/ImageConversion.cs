using Ferry.Oci;
using Ferry.References;

namespace Ferry.Transfer;

/// <summary>A manifest or index a run rewrote into another family of media types: its digest before and after.</summary>
/// <param name="Image">The image it belongs to (its name at the destination).</param>
/// <param name="From">The digest it had at the source.</param>
/// <param name="To">The digest it has now.</param>
/// <param name="MediaType">Its new media type.</param>
public sealed record ConvertedManifest(ImageReference Image, Digest From, Digest To, string MediaType);

/// <summary>
/// Applies <see cref="TransferRequest.ManifestFormat"/> to a resolved image: every image manifest and the index are
/// rewritten (<see cref="ManifestConverter"/>), layers and configs keep their bytes. Artifacts in an index (attestations)
/// stay as they are; signatures and other referrers of the image are left behind, since they sign the old digests.
/// </summary>
internal static class ImageConversion
{
    public static (ResolvedImage Image, IReadOnlyList<ConvertedManifest> Changes) Apply(ResolvedImage image, ManifestFormat format)
    {
        var changes = new List<ConvertedManifest>();
        var children = new Dictionary<Digest, ManifestDocument>();
        var platforms = new List<PlatformImage>();
        PlatformImage? primary = null;
        foreach (var platform in image.Platforms)
        {
            var converted = platform;
            if (MediaTypes.IsImageConfig(platform.Manifest.Config?.MediaType))
            {
                var manifest = ManifestConverter.ConvertManifest(platform.Manifest, format);
                if (manifest.Digest != platform.Manifest.Digest)
                {
                    children[platform.Manifest.Digest] = manifest;
                    changes.Add(new ConvertedManifest(image.Reference, platform.Manifest.Digest, manifest.Digest, manifest.MediaType));
                    converted = platform with { Manifest = manifest };
                }
            }

            platforms.Add(converted);
            if (ReferenceEquals(platform, image.Primary))
            {
                primary = converted;
            }
        }

        ManifestDocument top;
        if (image.Top.IsIndex)
        {
            top = ManifestConverter.ConvertIndex(image.Top, format, children);
            if (top.Digest != image.Top.Digest)
            {
                changes.Add(new ConvertedManifest(image.Reference, image.Top.Digest, top.Digest, top.MediaType));
            }
        }
        else
        {
            top = (primary ?? platforms[0]).Manifest;
        }

        if (changes.Count == 0)
        {
            return (image, changes);
        }

        return (image with { Top = top, Platforms = platforms, Primary = primary ?? platforms[0], Artifacts = [] }, changes);
    }
}
