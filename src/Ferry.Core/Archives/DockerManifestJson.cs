using System.Text.Json;
using Ferry.Oci;

namespace Ferry.Archives;

/// <summary>
/// The docker-archive <c>manifest.json</c>: one item per image manifest (<c>Config</c>, <c>RepoTags</c>,
/// <c>Layers</c>), blobs named <c>blobs/sha256/&lt;hex&gt;</c>, the tags of the same manifest merged into one item.
/// </summary>
internal static class DockerManifestJson
{
    public static byte[] Build(IEnumerable<(ManifestDocument Manifest, string? Tag)> images)
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
        using (var writer = new Utf8JsonWriter(buffer))
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
                    writer.WriteStringValue(layer.Digest.LayoutPath);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }
}
