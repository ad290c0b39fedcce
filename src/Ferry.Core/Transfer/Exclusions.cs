using Ferry.Archives.Format;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.Transfer;

/// <summary>
/// The layers a partial (delta) save leaves out: those of the excluded images (<c>--exclude</c>, resolved like
/// the saved ones, every platform) and of the images in excluded archives (<c>--exclude-archive</c>, any format
/// Ferry reads). Matching is by compressed digest and by diff_id, so a layer the other side holds in another
/// compression is still recognised. Only layers are ever left out; manifests, configs and indexes stay.
/// </summary>
internal sealed class Exclusions
{
    private readonly Dictionary<Digest, (string By, string? Image)> _byDigest = [];
    private readonly Dictionary<Digest, (string By, string? Image)> _byDiffId = [];

    public static async Task<Exclusions> CollectAsync(TransferRequest request, IImageSource source, CancellationToken cancellationToken)
    {
        var exclusions = new Exclusions();
        foreach (var image in request.Exclude)
        {
            var resolved = await source.ResolveAsync(image, PlatformSelection.All, cancellationToken).ConfigureAwait(false);
            foreach (var platform in resolved.Platforms)
            {
                exclusions.Add(platform.Manifest.Layers, DiffIds(platform.Config), image, resolved.Reference.ToString());
            }
        }

        foreach (var path in request.ExcludeArchives)
        {
            using var archive = await ImageArchive.OpenAsync(path, cancellationToken).ConfigureAwait(false);
            foreach (var image in archive.Images)
            {
                foreach (var descriptor in (await archive.WalkAsync(image.Top, cancellationToken).ConfigureAwait(false)).Where(d => MediaTypes.IsImageManifest(d.MediaType)))
                {
                    var manifest = await archive.ReadManifestAsync(descriptor, cancellationToken).ConfigureAwait(false);
                    var config = await archive.ReadSmallBlobAsync(manifest.Config!, 8 * 1024 * 1024, cancellationToken).ConfigureAwait(false);
                    var name = image.Name is not null && ImageReference.TryParse(image.Name, out var parsed, out _) ? parsed!.ToString() : null;
                    exclusions.Add(manifest.Layers, DiffIds(config), $"{path} ({image.Name ?? image.Top.Digest.Short})", name);
                }
            }
        }

        return exclusions;
    }

    /// <summary>The layers of the resolved images that the exclusions cover.</summary>
    public List<OmittedBlob> Omit(IReadOnlyList<ResolvedImage> images)
    {
        var omitted = new Dictionary<Digest, OmittedBlob>();
        foreach (var platform in images.SelectMany(i => i.Platforms))
        {
            var diffIds = DiffIds(platform.Config);
            for (var i = 0; i < platform.Manifest.Layers.Count; i++)
            {
                var layer = platform.Manifest.Layers[i];
                Digest? diffId = i < diffIds.Count ? diffIds[i] : null;
                if (_byDigest.TryGetValue(layer.Digest, out var by) || (diffId is { } id && _byDiffId.TryGetValue(id, out by)))
                {
                    omitted.TryAdd(layer.Digest, new OmittedBlob(layer.Digest, layer.Size, layer.MediaType, diffId, by.By) { ExcludedImage = by.Image });
                }
            }
        }

        return omitted.Values.OrderBy(o => o.Digest.ToString(), StringComparer.Ordinal).ToList();
    }

    private static IReadOnlyList<Digest> DiffIds(ReadOnlyMemory<byte> config)
    {
        try
        {
            return ImageConfigInfo.Parse(config.Span, "an excluded image").DiffIds;
        }
        catch (Errors.InvalidInputException)
        {
            return [];
        }
    }

    private void Add(IReadOnlyList<Descriptor> layers, IReadOnlyList<Digest> diffIds, string by, string? image)
    {
        for (var i = 0; i < layers.Count; i++)
        {
            _byDigest.TryAdd(layers[i].Digest, (by, image));
            if (i < diffIds.Count)
            {
                _byDiffId.TryAdd(diffIds[i], (by, image));
            }
        }
    }
}
