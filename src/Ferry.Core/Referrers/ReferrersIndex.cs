using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;

namespace Ferry.Referrers;

/// <summary>
/// The image index that lists the referrers of a manifest — what the OCI 1.1 referrers API answers and what its
/// fallback tag (<c>sha256-&lt;hex&gt;</c>) holds: one descriptor per artifact manifest, with its <c>artifactType</c> and
/// the artifact's own annotations.
/// </summary>
public static class ReferrersIndex
{
    /// <summary>Reads the entries of a referrers index.</summary>
    /// <param name="json">The index's bytes.</param>
    /// <param name="what">A name for messages.</param>
    /// <returns>The entries, in order.</returns>
    /// <exception cref="InvalidInputException">Not an index.</exception>
    public static IReadOnlyList<ReferrerDescriptor> Read(ReadOnlyMemory<byte> json, string what)
    {
        var index = ManifestDocument.Parse(json, MediaTypes.OciIndex, what);
        if (!index.IsIndex)
        {
            throw new InvalidInputException($"{what}: the referrers list is not an image index");
        }

        using var document = JsonDocument.Parse(json);
        var entries = new List<ReferrerDescriptor>();
        var i = 0;
        foreach (var element in document.RootElement.GetProperty("manifests").EnumerateArray())
        {
            var type = element.TryGetProperty("artifactType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            entries.Add(new ReferrerDescriptor(index.Manifests[i++], type, ManifestDocument.ReadAnnotations(element)));
        }

        return entries;
    }

    /// <summary>Writes a referrers index (compact, in the given order).</summary>
    /// <param name="entries">The entries.</param>
    /// <returns>The index's bytes.</returns>
    public static byte[] Build(IEnumerable<ReferrerDescriptor> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return ManifestWriter.Index(entries.Select(e => new IndexEntry(e.Descriptor, e.ArtifactType, e.Annotations.OrderBy(a => a.Key, StringComparer.Ordinal).ToList())));
    }

    /// <summary>The entry an artifact has in a referrers list.</summary>
    /// <param name="artifact">The artifact.</param>
    /// <returns>Its descriptor, type and annotations.</returns>
    public static ReferrerDescriptor EntryFor(ReferrerArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        return new ReferrerDescriptor(artifact.Manifest.Descriptor, artifact.ArtifactType, artifact.Manifest.Annotations);
    }
}
