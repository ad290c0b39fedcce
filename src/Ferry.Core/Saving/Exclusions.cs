using System.Text.Json;
using Ferry.Archives;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;

namespace Ferry.Saving;

/// <summary>A layer the archive leaves out, and why.</summary>
/// <param name="Digest">Its digest.</param>
/// <param name="Size">Its size.</param>
/// <param name="MediaType">Its media type.</param>
/// <param name="DiffId">Its uncompressed digest, when known.</param>
/// <param name="ExcludedBy">The excluded image or archive that holds it.</param>
public sealed record OmittedBlob(Digest Digest, long Size, string MediaType, Digest? DiffId, string ExcludedBy);

/// <summary>
/// The layers a partial (delta) save leaves out: those of the excluded images (<c>--exclude</c>, resolved like
/// the saved ones, every platform) and of the images in excluded archives (<c>--exclude-archive</c>, any format
/// Ferry reads). Matching is by compressed digest and by diff_id, so a layer the other side holds in another
/// compression is still recognised. Only layers are ever left out; manifests, configs and indexes stay.
/// </summary>
internal sealed class Exclusions
{
    private readonly Dictionary<Digest, string> _byDigest = [];
    private readonly Dictionary<Digest, string> _byDiffId = [];

    public bool IsEmpty => _byDigest.Count == 0 && _byDiffId.Count == 0;

    public static async Task<Exclusions> CollectAsync(SaveRequest request, IImageSource source, CancellationToken cancellationToken)
    {
        var exclusions = new Exclusions();
        var everyPlatform = request with { Platforms = PlatformSelection.All };
        foreach (var image in request.Exclude)
        {
            var resolved = await source.ResolveAsync(image, everyPlatform, cancellationToken).ConfigureAwait(false);
            foreach (var platform in resolved.Platforms)
            {
                exclusions.Add(platform.Manifest.Layers, DiffIds(platform.Config.Span), image);
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
                    exclusions.Add(manifest.Layers, DiffIds(config), $"{path} ({image.Name ?? image.Top.Digest.Short})");
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
            var diffIds = DiffIds(platform.Config.Span);
            for (var i = 0; i < platform.Manifest.Layers.Count; i++)
            {
                var layer = platform.Manifest.Layers[i];
                Digest? diffId = i < diffIds.Count ? diffIds[i] : null;
                var by = _byDigest.TryGetValue(layer.Digest, out var d) ? d : diffId is { } id && _byDiffId.TryGetValue(id, out var f) ? f : null;
                if (by is not null)
                {
                    omitted.TryAdd(layer.Digest, new OmittedBlob(layer.Digest, layer.Size, layer.MediaType, diffId, by));
                }
            }
        }

        return omitted.Values.OrderBy(o => o.Digest.ToString(), StringComparer.Ordinal).ToList();
    }

    /// <summary>The <c>ferry-partial.json</c> document.</summary>
    public static byte[] PartialJson(IReadOnlyList<OmittedBlob> omitted)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteStartArray("omitted");
            foreach (var blob in omitted)
            {
                writer.WriteStartObject();
                writer.WriteString("digest", blob.Digest.ToString());
                writer.WriteNumber("size", blob.Size);
                writer.WriteString("mediaType", blob.MediaType);
                if (blob.DiffId is { } diffId)
                {
                    writer.WriteString("diffID", diffId.ToString());
                }

                writer.WriteString("excludedBy", blob.ExcludedBy);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads a <c>ferry-partial.json</c> document.</summary>
    public static List<OmittedBlob> ParsePartialJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        var result = new List<OmittedBlob>();
        foreach (var entry in document.RootElement.GetProperty("omitted").EnumerateArray())
        {
            Digest? diffId = entry.TryGetProperty("diffID", out var d) && Digest.TryParse(d.GetString(), out var parsed) ? parsed : null;
            result.Add(new OmittedBlob(Digest.Parse(entry.GetProperty("digest").GetString()!), entry.GetProperty("size").GetInt64(), entry.GetProperty("mediaType").GetString() ?? string.Empty, diffId, entry.TryGetProperty("excludedBy", out var by) ? by.GetString() ?? string.Empty : string.Empty));
        }

        return result;
    }

    private static List<Digest> DiffIds(ReadOnlySpan<byte> config)
    {
        try
        {
            var reader = new Utf8JsonReader(config);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.TryGetProperty("rootfs", out var rootfs) && rootfs.TryGetProperty("diff_ids", out var ids) && ids.ValueKind == JsonValueKind.Array
                ? ids.EnumerateArray().Select(i => Digest.TryParse(i.GetString(), out var digest) ? digest : default).ToList()
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private void Add(IReadOnlyList<Descriptor> layers, List<Digest> diffIds, string by)
    {
        for (var i = 0; i < layers.Count; i++)
        {
            _byDigest.TryAdd(layers[i].Digest, by);
            if (i < diffIds.Count && diffIds[i].Hex is not null)
            {
                _byDiffId.TryAdd(diffIds[i], by);
            }
        }
    }
}
