using System.Text.Json;
using Ferry.Archives;
using Ferry.Oci;

namespace Ferry.Saving;

/// <summary>
/// Builds the archive content from resolved images: every blob once, <c>index.json</c> with one entry per
/// reference (containerd and OCI name annotations, the full reference as <c>ref.name</c>), and
/// <c>manifest.json</c> with one item per image for one platform, fully qualified <c>RepoTags</c>.
/// Output depends only on the input (same images, same order → same bytes).
/// </summary>
internal static class LayoutBuilder
{
    public const string ImageNameAnnotation = "io.containerd.image.name";
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    public static ImageLayout Build(IReadOnlyList<ResolvedImage> images)
    {
        var blobs = new Dictionary<string, LayoutBlob>(StringComparer.Ordinal);
        void Add(Descriptor descriptor, ReadOnlyMemory<byte>? content, ResolvedImage image)
        {
            var key = descriptor.Digest.ToString();
            if (!blobs.ContainsKey(key))
            {
                blobs[key] = new LayoutBlob(descriptor, content, content is null ? image.Source : null);
            }
        }

        foreach (var image in images)
        {
            Add(image.Top.Descriptor, image.Top.Content, image);
            foreach (var platform in image.Platforms)
            {
                Add(platform.Manifest.Descriptor, platform.Manifest.Content, image);
                Add(platform.Manifest.Config!, platform.Config, image);
                foreach (var layer in platform.Manifest.Layers)
                {
                    Add(layer, null, image);
                }
            }
        }

        var sorted = blobs.Values.OrderBy(b => b.Path, StringComparer.Ordinal).ToList();
        return new ImageLayout(sorted, BuildIndexJson(images), BuildManifestJson(images));
    }

    private static byte[] BuildIndexJson(IReadOnlyList<ResolvedImage> images)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WriteStartArray("manifests");
            foreach (var image in images.DistinctBy(i => i.Reference.ToString()))
            {
                var name = image.Reference.ToString();
                writer.WriteStartObject();
                writer.WriteString("mediaType", image.Top.MediaType);
                writer.WriteString("digest", image.Top.Digest.ToString());
                writer.WriteNumber("size", image.Top.Content.Length);
                writer.WriteStartObject("annotations");
                writer.WriteString(ImageNameAnnotation, name);
                writer.WriteString(RefNameAnnotation, name);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static byte[] BuildManifestJson(IReadOnlyList<ResolvedImage> images) =>
        DockerManifestJson.Build(images.Select(i => (i.Primary.Manifest, i.Reference.TaggedName)));
}
