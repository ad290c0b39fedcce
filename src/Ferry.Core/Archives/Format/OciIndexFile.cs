using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;

namespace Ferry.Archives.Format;

/// <summary>One entry of an archive's <c>index.json</c>: the descriptor and the image name it carries, if any.</summary>
/// <param name="Descriptor">The manifest or index it points at.</param>
/// <param name="Name">A full image reference from its annotations, or <see langword="null"/>.</param>
public sealed record OciIndexEntry(Descriptor Descriptor, string? Name);

/// <summary>
/// The one reader and writer of an OCI layout's <c>index.json</c>. Names come from <c>io.containerd.image.name</c>,
/// else from an <c>org.opencontainers.image.ref.name</c> that is a full reference (a tag alone, as the OCI spec
/// allows, names no repository). <c>"manifests": null</c> (Docker 25+ saving an untagged image) reads as no entries.
/// </summary>
public static class OciIndexFile
{
    /// <summary>The file's name.</summary>
    public const string FileName = "index.json";

    /// <summary>containerd's (and Docker 25's) image-name annotation.</summary>
    public const string ImageNameAnnotation = "io.containerd.image.name";

    /// <summary>The OCI reference-name annotation.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>Reads the entries.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="where">The archive, for messages.</param>
    /// <returns>The entries in file order (empty for <c>"manifests": null</c>).</returns>
    /// <exception cref="InvalidInputException">Malformed.</exception>
    public static IReadOnlyList<OciIndexEntry> Read(ReadOnlyMemory<byte> json, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidInputException($"{where}: {FileName} is not a JSON object");
            }

            if (!root.TryGetProperty("manifests", out var manifests) || manifests.ValueKind == JsonValueKind.Null)
            {
                return [];
            }

            if (manifests.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException($"{where}: {FileName} has a \"manifests\" that is not an array");
            }

            var index = ManifestDocument.Parse(json, MediaTypes.OciIndex, $"{where}: {FileName}");
            var entries = new List<OciIndexEntry>();
            var i = 0;
            foreach (var entry in manifests.EnumerateArray())
            {
                entries.Add(new OciIndexEntry(index.Manifests[i++], NameOf(entry)));
            }

            return entries;
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{where}: {FileName} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Writes an index with one entry per image, both name annotations set to the full reference.</summary>
    /// <param name="entries">The descriptors and names, in order.</param>
    /// <returns>The file's bytes (compact, deterministic).</returns>
    public static byte[] Build(IEnumerable<OciIndexEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonFiles.Compact))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var (descriptor, name) in entries)
            {
                writer.WriteStartObject();
                writer.WriteString("mediaType", descriptor.MediaType);
                writer.WriteString("digest", descriptor.Digest.ToString());
                writer.WriteNumber("size", descriptor.Size);
                if (name is not null)
                {
                    writer.WriteStartObject("annotations");
                    writer.WriteString(ImageNameAnnotation, name);
                    writer.WriteString(RefNameAnnotation, name);
                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string? NameOf(JsonElement entry)
    {
        string? Annotation(string key) => entry.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object &&
                                          a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var name = Annotation(ImageNameAnnotation) ?? Annotation(RefNameAnnotation);
        return name is not null && (name.Contains('/', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)) ? name : null;
    }
}
