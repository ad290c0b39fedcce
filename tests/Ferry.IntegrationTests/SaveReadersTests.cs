using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>Ferry's archives read by independent tools: podman, skopeo, umoci, oci-image-tool.</summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SaveReadersTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Save_MultiImage_PodmanLoadsEveryTag()
    {
        var podman = Components.Require("podman", "podman");
        using var dir = new TempDirectory();
        var archive = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");

        var storage = PodmanStorage(dir);
        (await ProcessRunner.RunAsync(podman, [.. storage, "load", "-i", archive])).EnsureSuccess("podman load");
        var images = (await ProcessRunner.RunAsync(podman, [.. storage, "images", "--format", "{{.Repository}}:{{.Tag}}"])).EnsureSuccess("podman images");
        Assert.Contains($"{env.Host}/test/app:1", images.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{env.Host}/test/oci:1", images.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_SingleImage_PodmanLoadKeepsTheRegistryDigest()
    {
        var podman = Components.Require("podman", "podman");
        using var dir = new TempDirectory();
        var archive = dir.File("oci.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");

        var storage = PodmanStorage(dir);
        (await ProcessRunner.RunAsync(podman, [.. storage, "load", "-i", archive])).EnsureSuccess("podman load");
        var digests = (await ProcessRunner.RunAsync(podman, [.. storage, "images", "--digests", "--format", "{{.Digest}}"])).EnsureSuccess("podman images");
        Assert.Contains(env.Digests["test/oci:1"], digests.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_SkopeoInspectsDockerArchiveAndOciArchive()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        using var dir = new TempDirectory();
        var archive = dir.File("oci.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");

        var docker = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--config", $"docker-archive:{archive}"])).EnsureSuccess("skopeo inspect docker-archive");
        Assert.Contains("\"oci\"", docker.StandardOutput, StringComparison.Ordinal);
        var raw = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", $"oci-archive:{archive}"])).EnsureSuccess("skopeo inspect oci-archive");
        Assert.Equal(env.Images["test/oci:1"].Manifest.Content, System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput));
    }

    [Fact]
    public async Task Save_SkopeoCopyFromOciArchive_ReproducesTheSourceManifestDigest()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        using var dir = new TempDirectory();
        var archive = dir.File("oci.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");

        (await ProcessRunner.RunAsync(skopeo, ["copy", "--dest-tls-verify=false", $"oci-archive:{archive}", $"docker://{env.Host}/copy/oci:1"])).EnsureSuccess("skopeo copy");
        Assert.Equal(env.Digests["test/oci:1"], await ManifestDigestAsync("copy/oci", "1"));
    }

    [Fact]
    public async Task Save_AllPlatforms_SkopeoCopyAllReproducesTheIndexDigest()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        using var dir = new TempDirectory();
        var archive = dir.File("multi.tar");
        (await FerryCli.RunAsync("save", "--all-platforms", "-o", archive, $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save");

        (await ProcessRunner.RunAsync(skopeo, ["copy", "--all", "--dest-tls-verify=false", $"oci-archive:{archive}", $"docker://{env.Host}/copy/multi:1"])).EnsureSuccess("skopeo copy --all");
        Assert.Equal(env.Digests["test/multi:1"], await ManifestDigestAsync("copy/multi", "1"));
    }

    [Fact]
    public async Task Save_DirectoryFormat_IsAValidOciLayout()
    {
        var umoci = Components.Require("umoci", "umoci");
        var ociImageTool = Components.Require("oci-image-tool", "oci-image-tool");
        using var dir = new TempDirectory();
        var layout = dir.File("layout");
        (await FerryCli.RunAsync("save", "--format", "dir", "-o", layout, $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save --format dir");

        var list = (await ProcessRunner.RunAsync(umoci, ["ls", "--layout", layout])).EnsureSuccess("umoci ls");
        Assert.Contains($"{env.Host}/test/oci:1", list.StandardOutput, StringComparison.Ordinal);
        var validate = await ProcessRunner.RunAsync(ociImageTool, ["validate", "--type", "image", "--ref", $"name={env.Host}/test/oci:1", layout]);
        Assert.True(validate.ExitCode == 0, validate.StandardError + validate.StandardOutput);

        // Every blob file is named by its own digest.
        foreach (var file in Directory.GetFiles(Path.Combine(layout, "blobs", "sha256")))
        {
            Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(file))));
        }
    }

    /// <summary>A private podman store (vfs) inside the test's temp directory.</summary>
    private static string[] PodmanStorage(TempDirectory dir) =>
        ["--root", dir.File("root"), "--runroot", dir.File("runroot"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"];

    private async Task<string> ManifestDigestAsync(string repository, string tag)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{env.Host}/v2/{repository}/manifests/{tag}");
        foreach (var type in new[] { "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json" })
        {
            request.Headers.Accept.Add(new(type));
        }

        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(await response.Content.ReadAsByteArrayAsync()));
    }
}
