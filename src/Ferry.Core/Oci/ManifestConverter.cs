using System.Text.Json.Nodes;
using Ferry.Errors;
using Ferry.References;

namespace Ferry.Oci;

/// <summary>A family of manifest media types (<c>--manifest-format</c>).</summary>
public enum ManifestFormat
{
    /// <summary>OCI's: <c>application/vnd.oci.image.*</c>, what umoci and oci-image-tool read.</summary>
    Oci,

    /// <summary>Docker's schema 2: <c>application/vnd.docker.distribution.*</c>, what Engines before 23.0 push.</summary>
    Docker,
}

/// <summary>
/// Rewrites an index or image manifest into the other family of media types: the document's own <c>mediaType</c> and
/// those of its config, layers and entries change, every other field is kept; config and layer bytes are untouched
/// (their digests stay), so only manifest and index digests change. Documents already in the family come back as they are.
/// </summary>
public static class ManifestConverter
{
    private static readonly Dictionary<string, string> ToOci = new(StringComparer.Ordinal)
    {
        [MediaTypes.DockerManifestList] = MediaTypes.OciIndex,
        [MediaTypes.DockerManifest] = MediaTypes.OciManifest,
        [MediaTypes.DockerConfig] = MediaTypes.OciConfig,
        ["application/vnd.docker.image.rootfs.diff.tar.gzip"] = "application/vnd.oci.image.layer.v1.tar+gzip",
        ["application/vnd.docker.image.rootfs.diff.tar"] = "application/vnd.oci.image.layer.v1.tar",
        ["application/vnd.docker.image.rootfs.diff.tar.zstd"] = "application/vnd.oci.image.layer.v1.tar+zstd",
        ["application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    };

    private static readonly Dictionary<string, string> ToDocker = new(StringComparer.Ordinal)
    {
        [MediaTypes.OciIndex] = MediaTypes.DockerManifestList,
        [MediaTypes.OciManifest] = MediaTypes.DockerManifest,
        [MediaTypes.OciConfig] = MediaTypes.DockerConfig,
        ["application/vnd.oci.image.layer.v1.tar+gzip"] = "application/vnd.docker.image.rootfs.diff.tar.gzip",
        ["application/vnd.oci.image.layer.v1.tar"] = "application/vnd.docker.image.rootfs.diff.tar",
        ["application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };

    /// <summary>The media type of <paramref name="mediaType"/> in <paramref name="format"/>; unchanged when it has no counterpart.</summary>
    /// <param name="mediaType">A media type.</param>
    /// <param name="format">The family wanted.</param>
    /// <returns>The counterpart, or <paramref name="mediaType"/>.</returns>
    public static string MediaTypeIn(string mediaType, ManifestFormat format) =>
        (format == ManifestFormat.Oci ? ToOci : ToDocker).TryGetValue(mediaType, out var mapped) ? mapped : mediaType;

    /// <summary>Whether a document is already in <paramref name="format"/> (its own type, config and layers).</summary>
    /// <param name="document">An index or image manifest.</param>
    /// <param name="format">The family.</param>
    /// <returns><see langword="true"/> when nothing would change.</returns>
    public static bool IsIn(ManifestDocument document, ManifestFormat format)
    {
        ArgumentNullException.ThrowIfNull(document);
        return MediaTypeIn(document.MediaType, format) == document.MediaType &&
               (document.Config is null || MediaTypeIn(document.Config.MediaType, format) == document.Config.MediaType) &&
               document.Layers.All(l => MediaTypeIn(l.MediaType, format) == l.MediaType);
    }

    /// <summary>Rewrites an image manifest (config and layer types).</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="format">The family wanted.</param>
    /// <returns>The rewritten manifest (a new digest), or <paramref name="manifest"/> when nothing changes.</returns>
    /// <exception cref="UnsupportedContentException">A layer has no counterpart (zstd has no Docker type).</exception>
    public static ManifestDocument ConvertManifest(ManifestDocument manifest, ManifestFormat format)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (IsIn(manifest, format))
        {
            return manifest;
        }

        if (format == ManifestFormat.Docker && manifest.Layers.FirstOrDefault(l => MediaTypeIn(l.MediaType, format) == l.MediaType && !ToOci.ContainsKey(l.MediaType)) is { } stuck)
        {
            throw new UnsupportedContentException($"manifest {manifest.Digest.Short}: layer {stuck.Digest.Short} is {stuck.MediaType}, which has no Docker media type");
        }

        var root = Parse(manifest);
        root["mediaType"] = MediaTypeIn(manifest.MediaType, format);
        if (root["config"] is JsonObject config && config["mediaType"]?.GetValue<string>() is { } configType)
        {
            config["mediaType"] = MediaTypeIn(configType, format);
        }

        if (root["layers"] is JsonArray layers)
        {
            foreach (var layer in layers.OfType<JsonObject>())
            {
                if (layer["mediaType"]?.GetValue<string>() is { } layerType)
                {
                    layer["mediaType"] = MediaTypeIn(layerType, format);
                }
            }
        }

        return Serialize(root, MediaTypeIn(manifest.MediaType, format), manifest);
    }

    /// <summary>Rewrites an index: its type and each entry's, with the digests and sizes the rewritten children have.</summary>
    /// <param name="index">The index.</param>
    /// <param name="format">The family wanted.</param>
    /// <param name="children">Each rewritten child by its old digest (children absent here keep their entries).</param>
    /// <returns>The rewritten index, or <paramref name="index"/> when nothing changes.</returns>
    public static ManifestDocument ConvertIndex(ManifestDocument index, ManifestFormat format, IReadOnlyDictionary<Digest, ManifestDocument> children)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(children);
        if (MediaTypeIn(index.MediaType, format) == index.MediaType && index.Manifests.All(m => !children.TryGetValue(m.Digest, out var child) || child.Digest == m.Digest))
        {
            return index;
        }

        var root = Parse(index);
        root["mediaType"] = MediaTypeIn(index.MediaType, format);
        if (root["manifests"] is JsonArray entries)
        {
            foreach (var entry in entries.OfType<JsonObject>())
            {
                if (entry["digest"]?.GetValue<string>() is { } text && Digest.TryParse(text, out var digest) && children.TryGetValue(digest!, out var child))
                {
                    entry["mediaType"] = child.MediaType;
                    entry["digest"] = child.Digest.ToString();
                    entry["size"] = child.Content.Length;
                }
            }
        }

        return Serialize(root, MediaTypeIn(index.MediaType, format), index);
    }

    private static JsonObject Parse(ManifestDocument document) =>
        JsonNode.Parse(document.Content.Span) as JsonObject ?? throw new UnsupportedContentException($"manifest {document.Digest.Short} is not a JSON object");

    private static ManifestDocument Serialize(JsonObject root, string mediaType, ManifestDocument original)
    {
        using var buffer = new MemoryStream();
        using (var writer = new System.Text.Json.Utf8JsonWriter(buffer, JsonFiles.Compact))
        {
            root.WriteTo(writer);
        }

        return ManifestDocument.Parse(buffer.ToArray(), mediaType, $"{original.Digest.Short} rewritten");
    }
}
