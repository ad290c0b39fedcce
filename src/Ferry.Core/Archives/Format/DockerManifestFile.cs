using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;

namespace Ferry.Archives.Format;

/// <summary>One item of a docker-archive's <c>manifest.json</c>.</summary>
/// <param name="Config">The config's entry name.</param>
/// <param name="RepoTags">The tags (may be empty).</param>
/// <param name="Layers">The layers' entry names, base first.</param>
public sealed record DockerManifestItem(string Config, IReadOnlyList<string> RepoTags, IReadOnlyList<string> Layers);

/// <summary>
/// The one reader and writer of the docker-archive <c>manifest.json</c>: one item per image manifest
/// (<c>Config</c>, <c>RepoTags</c>, <c>Layers</c>). Ferry writes blobs as <c>blobs/sha256/&lt;hex&gt;</c> and merges
/// the tags of one manifest into one item; it reads every layout docker, podman, skopeo and crane write.
/// </summary>
public static class DockerManifestFile
{
    /// <summary>The file's name.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Reads the items; every path must stay inside the archive.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="where">The archive, for messages.</param>
    /// <returns>The items, paths normalised.</returns>
    /// <exception cref="InvalidInputException">Malformed, or a path escapes the archive.</exception>
    public static IReadOnlyList<DockerManifestItem> Read(ReadOnlyMemory<byte> json, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException($"{where}: {FileName} is not an array");
            }

            var items = new List<DockerManifestItem>();
            foreach (var item in document.RootElement.EnumerateArray())
            {
                var config = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Config", out var c) && c.ValueKind == JsonValueKind.String
                    ? c.GetString()!
                    : throw new InvalidInputException($"{where}: a {FileName} entry has no Config");
                var tags = item.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString() : null).OfType<string>().ToList() : [];
                var layers = item.TryGetProperty("Layers", out var l) && l.ValueKind == JsonValueKind.Array
                    ? l.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : string.Empty).ToList()
                    : throw new InvalidInputException($"{where}: a {FileName} entry has no Layers");
                items.Add(new DockerManifestItem(Checked(config, where), tags, layers.Select(name => Checked(name, where)).ToList()));
            }

            return items;
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{where}: {FileName} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Writes the file for image manifests whose blobs sit at <c>blobs/sha256/&lt;hex&gt;</c>; tags of one manifest share an item.</summary>
    /// <param name="images">Each manifest with its tag (or none).</param>
    /// <param name="layerPath">Where a layer sits, when not at its digest's path (a layer sent unpacked, at its diff ID's).</param>
    /// <returns>The file's bytes.</returns>
    public static byte[] Build(IEnumerable<(ManifestDocument Manifest, string? Tag)> images, Func<Descriptor, string>? layerPath = null)
    {
        var items = new List<(ManifestDocument Manifest, List<string> Tags)>();
        foreach (var (manifest, tag) in images)
        {
            var index = items.FindIndex(i => i.Manifest.Digest == manifest.Digest);
            if (index < 0)
            {
                items.Add((manifest, []));
                index = items.Count - 1;
            }

            if (tag is not null && !items[index].Tags.Contains(tag))
            {
                items[index].Tags.Add(tag);
            }
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonFiles.Compact))
        {
            writer.WriteStartArray();
            foreach (var (manifest, tags) in items)
            {
                writer.WriteStartObject();
                writer.WriteString("Config", manifest.Config!.Digest.LayoutPath);
                writer.WriteStartArray("RepoTags");
                foreach (var tag in tags)
                {
                    writer.WriteStringValue(tag);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("Layers");
                foreach (var layer in manifest.Layers)
                {
                    writer.WriteStringValue(layerPath?.Invoke(layer) ?? layer.Digest.LayoutPath);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }

    private static string Checked(string name, string where) =>
        EntryNames.Normalize(name) ?? throw new InvalidInputException($"{where}: {FileName} names \"{name}\", which escapes the archive; refused");
}
