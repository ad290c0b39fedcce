using System.Text.Json;

namespace Ferry.Oci;

/// <summary>Writes the image manifests Ferry has to build itself (archives and daemon exports that carry none).</summary>
internal static class ManifestWriter
{
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
