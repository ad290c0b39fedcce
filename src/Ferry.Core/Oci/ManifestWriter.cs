using System.Text.Json;

namespace Ferry.Oci;

/// <summary>One entry of an index Ferry writes: a descriptor, its artifact type and annotations (written in the order given).</summary>
internal readonly record struct IndexEntry(Descriptor Descriptor, string? ArtifactType, IReadOnlyList<KeyValuePair<string, string>> Annotations);

/// <summary>Writes the manifests and indexes Ferry builds itself: image manifests for archives and daemon exports that carry none, an archive's index.json, referrers lists.</summary>
internal static class ManifestWriter
{
    /// <summary>An OCI image index (compact, deterministic): per entry mediaType, digest, size, then artifactType and annotations when set.</summary>
    /// <param name="entries">The entries, in order.</param>
    /// <returns>The index's bytes.</returns>
    public static byte[] Index(IEnumerable<IndexEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonFiles.Compact))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var (descriptor, artifactType, annotations) in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("mediaType", descriptor.MediaType);
                writer.WriteString("digest", descriptor.Digest.ToString());
                writer.WriteNumber("size", descriptor.Size);
                if (artifactType is not null)
                {
                    writer.WriteString("artifactType", artifactType);
                }

                if (annotations.Count > 0)
                {
                    writer.WriteStartObject("annotations");
                    foreach (var (key, value) in annotations)
                    {
                        writer.WriteString(key, value);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A schema 2 image manifest: Docker's when <paramref name="oci"/> is false, else OCI's.</summary>
    /// <param name="config">The config descriptor.</param>
    /// <param name="layers">The layer descriptors, in order.</param>
    /// <param name="oci">Whether to write an OCI manifest.</param>
    /// <returns>The manifest's bytes (compact JSON, deterministic).</returns>
    public static byte[] ImageManifest(Descriptor config, IEnumerable<Descriptor> layers, bool oci)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonFiles.Compact))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest);
            writer.WritePropertyName("config");
            Write(writer, config);
            writer.WriteStartArray("layers");
            foreach (var layer in layers)
            {
                Write(writer, layer);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, Descriptor descriptor)
    {
        writer.WriteStartObject();
        writer.WriteString("mediaType", descriptor.MediaType);
        writer.WriteNumber("size", descriptor.Size);
        writer.WriteString("digest", descriptor.Digest.ToString());
        writer.WriteEndObject();
    }
}
