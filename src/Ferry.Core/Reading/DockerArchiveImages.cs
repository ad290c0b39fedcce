using Ferry.Archives.Compression;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Reading;

/// <summary>
/// A blob whose digests were learnt as its bytes passed: a docker-archive's layer as read, or a blob a streaming
/// source appended (an Engine's export). One type for both, so the export and an archive on disk are read alike.
/// </summary>
/// <param name="Descriptor">Digest and size of the stored bytes (media type empty).</param>
/// <param name="DiffId">The digest of the uncompressed bytes (the stored bytes' own digest when they are not compressed).</param>
/// <param name="Compression">How the stored bytes are compressed.</param>
public sealed record HashedBlob(Descriptor Descriptor, Digest DiffId, DetectedCompression Compression);

/// <summary>One image of a docker-archive's <c>manifest.json</c>: its entry, config, layers and the manifest built for it.</summary>
/// <param name="Item">The <c>manifest.json</c> entry (config path, tags, layer paths).</param>
/// <param name="Config">The config's bytes.</param>
/// <param name="Info">What the config says (platform, diff_ids).</param>
/// <param name="Layers">The layers, in order.</param>
/// <param name="Manifest">The manifest Ferry builds from them.</param>
internal sealed record DockerArchiveImage(DockerManifestItem Item, byte[] Config, ImageConfigInfo Info, IReadOnlyList<HashedBlob> Layers, ManifestDocument Manifest);

/// <summary>
/// The one reading of a docker-archive's images (docker save of every version, skopeo, podman, crane, and a Docker
/// Engine's export, whether kept in a file or streamed): each <c>manifest.json</c> entry's config, its layers checked
/// against the config's diff_ids, and the manifest built for them. Where the bytes come from is the caller's.
/// </summary>
internal static class DockerArchiveImages
{
    public static async Task<IReadOnlyList<DockerArchiveImage>> ReadAsync(
        ReadOnlyMemory<byte> manifestJson,
        string where,
        Func<string, Task<byte[]>> readConfig,
        Func<string, Task<HashedBlob>> readLayer)
    {
        var images = new List<DockerArchiveImage>();
        foreach (var item in DockerManifestFile.Read(manifestJson, where))
        {
            var config = await readConfig(item.Config).ConfigureAwait(false);
            var info = ImageConfigInfo.Parse(config, $"{where}: {item.Config}");
            var diffIds = info.DiffIds;
            if (diffIds.Count != item.Layers.Count)
            {
                throw new InvalidInputException($"{where}: {item.Config} lists {diffIds.Count} diff_ids but manifest.json lists {item.Layers.Count} layers");
            }

            var layers = await Task.WhenAll(item.Layers.Select(readLayer)).ConfigureAwait(false);
            for (var i = 0; i < layers.Length; i++)
            {
                if (layers[i].DiffId != diffIds[i])
                {
                    throw new DigestMismatchException($"{where}: layer {item.Layers[i]} uncompresses to {layers[i].DiffId}, but the config's diff_id is {diffIds[i]}");
                }
            }

            var manifest = ImageArchiveReader.BuildManifest(config, layers.Select(l => (l.Descriptor, l.Compression)).ToList());
            images.Add(new DockerArchiveImage(item, config, info, layers, manifest));
        }

        return images;
    }
}
