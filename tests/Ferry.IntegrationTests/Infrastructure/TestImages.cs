using System.Formats.Tar;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>A blob built by the tests: bytes and digest.</summary>
internal sealed record TestBlob(byte[] Content, string MediaType)
{
    public string Digest { get; } = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Content));

    public JsonObject Descriptor(JsonObject? platform = null)
    {
        var descriptor = new JsonObject { ["mediaType"] = MediaType, ["digest"] = Digest, ["size"] = Content.Length };
        if (platform is not null)
        {
            descriptor["platform"] = platform;
        }

        return descriptor;
    }
}

/// <summary>A single-platform image built by the tests.</summary>
internal sealed record TestImage(TestBlob Manifest, TestBlob Config, IReadOnlyList<TestBlob> Layers, string Architecture, string? Variant);

/// <summary>
/// Builds small images (gzip layers generated here; the runnable base holds Debian's static busybox) and
/// pushes them with the registry HTTP API directly — independent of Ferry's own registry client.
/// </summary>
internal static class TestImages
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    public static TestBlob Layer(IReadOnlyDictionary<string, byte[]> files, bool docker, bool zstd = false)
    {
        using var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, TarEntryFormat.Ustar, leaveOpen: true))
        {
            var directories = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var name in files.Keys)
            {
                var parts = name.Split('/');
                for (var i = 1; i < parts.Length; i++)
                {
                    directories.Add(string.Join('/', parts[..i]) + "/");
                }
            }

            foreach (var directory in directories)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.Directory, directory) { Mode = (UnixFileMode)0b111_101_101, ModificationTime = DateTimeOffset.UnixEpoch });
            }

            foreach (var (name, content) in files.OrderBy(f => f.Key, StringComparer.Ordinal))
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name)
                {
                    Mode = (UnixFileMode)0b111_101_101,
                    ModificationTime = DateTimeOffset.UnixEpoch,
                    DataStream = new MemoryStream(content),
                });
            }
        }

        var raw = tar.ToArray();
        if (zstd)
        {
            // Compressed by Debian's zstd, not by the library Ferry reads zstd with.
            var compressed = ZstdCli(raw);
            var zblob = new TestBlob(compressed, "application/vnd.oci.image.layer.v1.tar+zstd");
            DiffIds[zblob.Digest] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw));
            return zblob;
        }

        using var gz = new MemoryStream();
        using (var gzip = new GZipStream(gz, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        var blob = new TestBlob(gz.ToArray(), docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar+gzip");
        DiffIds[blob.Digest] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(raw));
        return blob;
    }

    private static byte[] ZstdCli(byte[] raw)
    {
        var path = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, raw);
            var zstd = ProcessRunner.RunAsync(Components.Require("zstd", "zstd"), ["-q", "-f", "-3", path, "-o", path + ".zst"]).GetAwaiter().GetResult();
            if (zstd.ExitCode != 0)
            {
                throw new InvalidOperationException($"zstd failed: {zstd.StandardError}");
            }

            return File.ReadAllBytes(path + ".zst");
        }
        finally
        {
            File.Delete(path);
            File.Delete(path + ".zst");
        }
    }

    public static TestBlob BusyboxLayer(bool docker) =>
        Layer(new Dictionary<string, byte[]> { ["bin/busybox"] = File.ReadAllBytes(Components.Require("busybox", "busybox-static")) }, docker);

    public static TestBlob RandomLayer(string seed, int size, bool docker)
    {
        var content = new byte[size];
        new Random(seed.GetHashCode(StringComparison.Ordinal) ^ size).NextBytes(content);
        return Layer(new Dictionary<string, byte[]> { [$"data/{seed}.bin"] = content }, docker);
    }

    public static TestImage Image(IReadOnlyList<TestBlob> layers, bool docker, string architecture = "amd64", string? variant = null, string label = "")
    {
        var config = new JsonObject
        {
            ["architecture"] = architecture,
            ["os"] = "linux",
            ["config"] = new JsonObject { ["Env"] = new JsonArray("PATH=/bin"), ["Labels"] = new JsonObject { ["test"] = label } },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layers.Select(l => (JsonNode)JsonValue.Create(DiffIds[l.Digest])!).ToArray()) },
        };
        if (variant is not null)
        {
            config["variant"] = variant;
        }

        var configBlob = new TestBlob(Encoding.UTF8.GetBytes(config.ToJsonString()), docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json");
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = docker ? DockerManifest : OciManifest,
            ["config"] = configBlob.Descriptor(),
            ["layers"] = new JsonArray(layers.Select(l => (JsonNode)l.Descriptor()).ToArray()),
        };
        return new TestImage(new TestBlob(Encoding.UTF8.GetBytes(manifest.ToJsonString()), docker ? DockerManifest : OciManifest), configBlob, layers, architecture, variant);
    }

    /// <summary>
    /// A non-image OCI artifact as <c>helm push</c> or <c>oras push</c> lays it out: a config of its own media type
    /// (Helm's chart config, or the empty descriptor with an <c>artifactType</c>) and file layers with title annotations.
    /// </summary>
    public static TestImage Artifact(TestBlob config, IReadOnlyList<(byte[] Content, string MediaType, string Title)> files, string? artifactType = null)
    {
        var layers = files.Select(f => new TestBlob(f.Content, f.MediaType)).ToList();
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciManifest,
            ["config"] = config.Descriptor(),
            ["layers"] = new JsonArray(layers.Select((l, i) =>
            {
                var descriptor = l.Descriptor();
                descriptor["annotations"] = new JsonObject { ["org.opencontainers.image.title"] = files[i].Title };
                return (JsonNode)descriptor;
            }).ToArray()),
        };
        if (artifactType is not null)
        {
            manifest["artifactType"] = artifactType;
        }

        return new TestImage(new TestBlob(Encoding.UTF8.GetBytes(manifest.ToJsonString()), OciManifest), config, layers, "none", null);
    }

    public static TestBlob Index(IEnumerable<TestImage> images, bool docker) =>
        new(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = docker ? "application/vnd.docker.distribution.manifest.list.v2+json" : "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray(images.Select(i =>
            {
                var platform = new JsonObject { ["architecture"] = i.Architecture, ["os"] = "linux" };
                if (i.Variant is not null)
                {
                    platform["variant"] = i.Variant;
                }

                return (JsonNode)i.Manifest.Descriptor(platform);
            }).ToArray()),
        }.ToJsonString()), docker ? "application/vnd.docker.distribution.manifest.list.v2+json" : "application/vnd.oci.image.index.v1+json");

    public static async Task PushImageAsync(HttpClient http, string registry, string repository, TestImage image, string? tag)
    {
        foreach (var blob in image.Layers.Append(image.Config))
        {
            await PushBlobAsync(http, registry, repository, blob);
        }

        await PushManifestAsync(http, registry, repository, image.Manifest, tag ?? image.Manifest.Digest);
    }

    public static async Task PushBlobAsync(HttpClient http, string registry, string repository, TestBlob blob)
    {
        using var start = await http.PostAsync($"http://{registry}/v2/{repository}/blobs/uploads/", null);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!;
        var uri = location.IsAbsoluteUri ? location : new Uri(new Uri($"http://{registry}"), location);
        var separator = uri.Query.Length > 0 ? "&" : "?";
        using var content = new ByteArrayContent(blob.Content);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await http.PutAsync(uri + separator + "digest=" + Uri.EscapeDataString(blob.Digest), content);
        put.EnsureSuccessStatusCode();
    }

    public static async Task PushManifestAsync(HttpClient http, string registry, string repository, TestBlob manifest, string reference)
    {
        using var content = new ByteArrayContent(manifest.Content);
        content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
        using var put = await http.PutAsync($"http://{registry}/v2/{repository}/manifests/{reference}", content);
        if (!put.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"push of manifest {repository}:{reference} failed: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync()}");
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> DiffIds = new();
}
