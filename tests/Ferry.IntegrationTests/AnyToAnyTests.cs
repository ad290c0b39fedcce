using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// <c>ferry copy SRC DST</c> in skopeo's transport syntax across the nine pairs of registry, Docker Engine and archive,
/// against the real registry and dockerd: digests compared with the source (the config digest, which is the image ID,
/// where an Engine is involved), images run with <c>docker run</c>, layouts read by skopeo, podman and umoci. Also the
/// platform rule on Engine paths: <c>save --daemon --platform</c> honoured or refused, <c>load --daemon</c> of an
/// arm64-only archive, and the registry-only flags <c>load --daemon</c> refuses.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class AnyToAnyTests(RealComponentsFixture env)
{
    [Fact]
    public async Task RegistryToEngine_NoDockerPull_RunsWithTheRegistrysConfigDigest()
    {
        var copy = await CopyAsync($"docker://{env.Host}/test/app:1", "docker-daemon:anyany/pulled:1");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal("hello from app", await env.Docker.RunAsync("anyany/pulled:1", "cat", "/app.txt"));
        Assert.Equal(await ConfigDigestAsync("test/app", "1"), await ImageIdAsync("anyany/pulled:1"));

        // A multi-platform index: the Engine gets its own platform, not the whole index.
        var multi = await CopyAsync($"docker://{env.Host}/test/multi:1", "docker-daemon:anyany/multi:1");
        Assert.True(multi.ExitCode == 0, multi.StandardError);
        Assert.Equal("amd64", (await env.Docker.DockerAsync("image", "inspect", "--format", "{{.Architecture}}", "anyany/multi:1")).EnsureSuccess("inspect").StandardOutput.Trim());
    }

    [Fact]
    public async Task RegistryToEngine_ZstdLayers_ArriveUnpacked_WhichEngine2010CannotDoItself()
    {
        // An OCI image with a zstd layer (compressed by Debian's zstd): dockerd 20.10 cannot pull or load zstd itself.
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.BusyboxLayer(docker: false), TestImages.Layer(new Dictionary<string, byte[]> { ["zstd.txt"] = "hello from zstd"u8.ToArray() }, docker: false, zstd: true)], docker: false, label: "zstd");
        await TestImages.PushImageAsync(http, env.Host, "anyany/zstd", image, "1");
        var pull = await env.Docker.DockerAsync("pull", $"{env.Host}/anyany/zstd:1");
        Assert.NotEqual(0, pull.ExitCode); // the control: this Engine cannot read the layer as stored

        using var tmp = new TempDirectory("ferry-tmpdir");
        var copy = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["TMPDIR"] = tmp.Path }, "copy", "-H", env.Docker.Host, $"docker://{env.Host}/anyany/zstd:1", "docker-daemon:anyany/zstd:1");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal("hello from zstd", await env.Docker.RunAsync("anyany/zstd:1", "cat", "/zstd.txt"));
        Assert.Equal(image.Config.Digest, await ImageIdAsync("anyany/zstd:1"));
        Assert.Empty(Directory.GetFileSystemEntries(tmp.Path)); // the spool of unpacked layers is gone
    }

    [Fact]
    public async Task RegistryToEngine_WithATmpdirTooSmallToUnpack_SendsLayersAsStored()
    {
        await using var disk = await SmallDisk.MountAsync(8);
        var copy = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["TMPDIR"] = disk.Path }, "copy", "-H", env.Docker.Host, $"docker://{env.Host}/test/app:1", "docker-daemon:anyany/smalltmp:1");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal("hello from app", await env.Docker.RunAsync("anyany/smalltmp:1", "cat", "/app.txt"));
        Assert.Empty(Directory.GetFileSystemEntries(disk.Path));
    }

    [Fact]
    public async Task RegistryToRegistry_InTransportSyntax_KeepsTheIndexDigest()
    {
        var copy = await CopyAsync($"docker://{env.Host}/test/multi:1", $"docker://{env.Host}/anyany/r2r:1", "--all-platforms");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal(env.Digests["test/multi:1"], await RegistryManifests.DigestAsync(env.Host, "anyany/r2r", "1"));
        Assert.Contains($"{env.Host}/anyany/r2r:1\t{env.Digests["test/multi:1"]}", copy.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EngineToRegistry_AndEngineToEngine_KeepTheImageId()
    {
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        (await env.Docker.DockerAsync("tag", $"{env.Host}/test/app:1", "anyany/src:1")).EnsureSuccess("docker tag");
        var id = await ImageIdAsync("anyany/src:1");

        var push = await CopyAsync("docker-daemon:anyany/src:1", $"docker://{env.Host}/anyany/fromengine:1");
        Assert.True(push.ExitCode == 0, push.StandardError);
        Assert.Equal(id, await ConfigDigestAsync("anyany/fromengine", "1"));

        var renamed = await CopyAsync("docker-daemon:anyany/src:1", "docker-daemon:anyany/renamed:2");
        Assert.True(renamed.ExitCode == 0, renamed.StandardError);
        Assert.Equal(id, await ImageIdAsync("anyany/renamed:2"));

        (await env.Docker.DockerAsync("rmi", "-f", "anyany/src:1", "anyany/renamed:2", $"{env.Host}/test/app:1")).EnsureSuccess("docker rmi");
        (await env.Docker.DockerAsync("pull", $"{env.Host}/anyany/fromengine:1")).EnsureSuccess("docker pull of what the Engine pushed");
        Assert.Equal("hello from app", await env.Docker.RunAsync($"{env.Host}/anyany/fromengine:1", "cat", "/app.txt"));
    }

    [Fact]
    public async Task RegistryToArchive_ArchiveToRegistry_ArchiveToEngine()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        using var dir = new TempDirectory();
        var archive = dir.File("multi.tar");
        var save = await CopyAsync($"docker://{env.Host}/test/multi:1", $"oci-archive:{archive}", "--all-platforms");
        Assert.True(save.ExitCode == 0, save.StandardError);
        var raw = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", $"oci-archive:{archive}"])).EnsureSuccess("skopeo inspect");
        Assert.Equal(env.Digests["test/multi:1"], "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput.TrimEnd('\n')))));

        var push = await CopyAsync(archive, $"docker://{env.Host}/anyany/fromarchive:1");
        Assert.True(push.ExitCode == 0, push.StandardError);
        Assert.Equal(env.Digests["test/multi:1"], await RegistryManifests.DigestAsync(env.Host, "anyany/fromarchive", "1"));

        var app = dir.File("app.tar");
        (await CopyAsync($"docker://{env.Host}/test/app:1", $"docker-archive:{app}")).EnsureSuccess("registry to docker-archive");
        var load = await CopyAsync($"docker-archive:{app}", "docker-daemon:anyany/fromarchive:2");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal("hello from app", await env.Docker.RunAsync("anyany/fromarchive:2", "cat", "/app.txt"));
        Assert.Equal(await ConfigDigestAsync("test/app", "1"), await ImageIdAsync("anyany/fromarchive:2"));
    }

    [Fact]
    public async Task EngineToArchive_ThenToAnOciLayout_ConvertedForUmociSkopeoAndPodman()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        var umoci = Components.Require("umoci", "umoci");
        var podman = Components.Require("podman", "podman");
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        (await env.Docker.DockerAsync("tag", $"{env.Host}/test/app:1", "anyany/export:1")).EnsureSuccess("docker tag");
        var id = await ImageIdAsync("anyany/export:1");

        var archive = dir.File("engine.tar");
        var save = await CopyAsync("docker-daemon:anyany/export:1", $"docker-archive:{archive}");
        Assert.True(save.ExitCode == 0, save.StandardError);
        var config = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", "--config", $"docker-archive:{archive}"])).EnsureSuccess("skopeo inspect docker-archive");
        Assert.Equal(id, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(config.StandardOutput.TrimEnd('\n')))));

        // Archive to archive: Docker-typed manifests rewritten to OCI, said out loud; without the option nothing changes.
        var plain = dir.File("plain");
        (await CopyAsync($"docker-archive:{archive}", $"oci:{plain}")).EnsureSuccess("docker-archive to oci:");
        Assert.Contains("vnd.docker.distribution.manifest.v2", await File.ReadAllTextAsync(ManifestFile(plain)), StringComparison.Ordinal);

        var layout = dir.File("layout");
        var convert = await CopyAsync($"docker-archive:{archive}", $"oci:{layout}:anyany/export:1", "--manifest-format", "oci");
        Assert.True(convert.ExitCode == 0, convert.StandardError);
        Assert.Contains("ferry: converted docker.io/anyany/export:1 sha256:", convert.StandardError, StringComparison.Ordinal);
        Assert.Contains("(application/vnd.oci.image.manifest.v1+json)", convert.StandardError, StringComparison.Ordinal);
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(ManifestFile(layout)))!;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", (string?)manifest["mediaType"]);
        Assert.Equal(id, (string?)manifest["config"]!["digest"]); // the config's bytes are untouched

        var refName = (string)JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json")))!["manifests"]![0]!["annotations"]!["org.opencontainers.image.ref.name"]!;
        (await ProcessRunner.RunAsync(skopeo, ["inspect", $"oci:{layout}:{refName}"])).EnsureSuccess("skopeo inspect oci:");
        var bundle = dir.File("bundle");
        (await ProcessRunner.RunAsync(umoci, ["unpack", "--rootless", "--image", $"{layout}:{refName}", bundle])).EnsureSuccess("umoci unpack");
        Assert.Equal("hello from app", await File.ReadAllTextAsync(Path.Combine(bundle, "rootfs", "app.txt")));
        string[] storage = ["--root", dir.File("root"), "--runroot", dir.File("runroot"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"];
        // podman names an image loaded from a layout after its path, which must then be lowercase.
        var lower = Path.Combine(Path.GetTempPath(), "ferry-layout-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            (await CopyAsync($"oci:{layout}", $"oci:{lower}")).EnsureSuccess("oci: to oci:");
            (await ProcessRunner.RunAsync(podman, [.. storage, "load", "-i", lower])).EnsureSuccess("podman load of the layout");
        }
        finally
        {
            Directory.Delete(lower, recursive: true);
        }

        var images = (await ProcessRunner.RunAsync(podman, [.. storage, "images", "--no-trunc", "--format", "{{.ID}}"])).EnsureSuccess("podman images");
        Assert.Contains(id[7..], images.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ManifestFormat_OnSaveAndLoad_AndABundleUnderARegistryPrefix()
    {
        var ociImageTool = Components.Require("oci-image-tool", "oci-image-tool");
        using var dir = new TempDirectory();
        var layout = dir.File("layout");
        var save = await FerryCli.RunAsync("save", "--format", "dir", "--manifest-format", "oci", "-o", layout, $"{env.Host}/test/app:1", $"{env.Host}/test/base:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Equal(2, save.StandardError.Split('\n').Count(l => l.StartsWith("ferry: converted ", StringComparison.Ordinal)));
        foreach (var image in new[] { "test/app:1", "test/base:1" })
        {
            var validate = await ProcessRunner.RunAsync(ociImageTool, ["validate", "--type", "image", "--ref", $"name={env.Host}/{image}", layout]);
            Assert.True(validate.ExitCode == 0, validate.StandardError + validate.StandardOutput);
        }

        // The converted bundle, copied under a registry prefix: every image keeps its repository and tag under it.
        var push = await FerryCli.RunAsync("copy", layout, $"docker://{env.Host}/anyany-prefix");
        Assert.True(push.ExitCode == 0, push.StandardError);
        var pushed = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "anyany-prefix/test/app", "1"))!;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", (string?)pushed["mediaType"]);
        Assert.Equal(await ConfigDigestAsync("test/app", "1"), (string?)pushed["config"]!["digest"]);
        (await env.Docker.DockerAsync("pull", $"{env.Host}/anyany-prefix/test/base:1")).EnsureSuccess("docker pull of a converted image");

        // load converts too, and back: Docker types again over the same config and layers (a re-serialised manifest, so
        // not byte-identical to one that escaped its "+" signs).
        var archive = dir.File("oci.tar");
        (await FerryCli.RunAsync("copy", layout, archive)).EnsureSuccess("layout to tar");
        var load = await FerryCli.RunAsync("load", archive, "--to", $"{env.Host}/anyany-back", "--manifest-format", "docker", "--image", $"{env.Host}/test/app:1");
        Assert.True(load.ExitCode == 0, load.StandardError);
        var original = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "test/app", "1"))!;
        var back = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "anyany-back/test/app", "1"))!;
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", (string?)back["mediaType"]);
        Assert.Equal(original["config"]!.ToJsonString(), back["config"]!.ToJsonString());
        Assert.Equal(original["layers"]!.ToJsonString(), back["layers"]!.ToJsonString());
    }

    [Fact]
    public async Task AnArchiveListingPlatformsItDoesNotCarry_IsReadAsItIs_ByInspectVerifyAndLoad()
    {
        // What docker save 25+ writes for a multi-platform image the Engine holds for amd64 only: the whole index,
        // the amd64 blobs. Made here from an all-platforms layout with the arm64 and arm/v7 images taken out.
        using var dir = new TempDirectory();
        var layout = dir.File("docker25");
        (await FerryCli.RunAsync("save", "--format", "dir", "--all-platforms", "-o", layout, $"{env.Host}/test/multi:1")).EnsureSuccess("save");
        foreach (var gone in new[] { env.Images["test/multi:1/arm64"], env.Images["test/multi:1/armv7"] })
        {
            foreach (var blob in gone.Layers.Append(gone.Config).Append(gone.Manifest))
            {
                File.Delete(Path.Combine(layout, "blobs", "sha256", blob.Digest[7..]));
            }
        }

        var verify = await FerryCli.RunAsync("verify", layout);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Contains("2 index entries listed but not carried (linux/arm64/v8, linux/arm/v7)", verify.StandardError, StringComparison.Ordinal);

        var inspect = await FerryCli.RunAsync("inspect", "--json", layout);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        var image = JsonNode.Parse(inspect.StandardOutput)!["images"]![0]!;
        Assert.Equal(["linux/amd64"], image["platforms"]!.AsArray().Select(p => (string)p!).ToArray());
        Assert.Equal(env.Digests["test/multi:1"], (string?)image["digest"]); // the archive's own index, as it is

        // Loaded: the entries that are there, under an index of its own (a registry refuses an index with absent children).
        var load = await FerryCli.RunAsync("load", layout, "--to", $"{env.Host}/anyany-docker25");
        Assert.True(load.ExitCode == 0, load.StandardError);
        var pushed = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "anyany-docker25/test/multi", "1"))!;
        Assert.Equal([env.Images["test/multi:1/amd64"].Manifest.Digest], pushed["manifests"]!.AsArray().Select(m => (string)m!["digest"]!).ToArray());
    }

    [Fact]
    public async Task CopyAs_AndDestinationCredentials_ForAnotherRegistry()
    {
        var htpasswd = Components.Require("htpasswd", "apache2-utils");
        using var dir = new TempDirectory();
        (await ProcessRunner.RunAsync(htpasswd, ["-Bbc", dir.File("htpasswd"), "pusher", "dest-Pa55"])).EnsureSuccess("htpasswd");
        await using var guarded = await RegistryProcess.StartAsync(dir.File("htpasswd"));
        var environment = new Dictionary<string, string> { ["DOCKER_CONFIG"] = Directory.CreateDirectory(dir.File("docker")).FullName, ["REGISTRY_AUTH_FILE"] = string.Empty, ["HOME"] = dir.Path };

        var refused = await FerryCli.RunAsync(environment, null, "copy", $"{env.Host}/test/app:1", "--as", $"{guarded.Host}/team/app:2");
        Assert.Equal(1, refused.ExitCode);

        var copy = await FerryCli.RunAsync(environment, "dest-Pa55\n", "copy", $"{env.Host}/test/app:1", "--as", $"{guarded.Host}/team/app:2", "--dest-username", "pusher", "--dest-password-stdin");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.DoesNotContain("dest-Pa55", copy.StandardError + copy.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{guarded.Host}/team/app:2", copy.StandardOutput, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("d.tar")]
    [InlineData("d.tar.gz")]
    public async Task SaveFromEngine_PlatformIsHonouredOrRefused(string name)
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/base:1")).EnsureSuccess("docker pull");
        string[] compress = name.EndsWith(".gz", StringComparison.Ordinal) ? ["--compress", "gzip"] : [];
        var output = dir.File(name);

        var refused = await FerryCli.RunAsync(["save", "--daemon", "-H", env.Docker.Host, "--platform", "linux/arm64", "-o", output, .. compress, $"{env.Host}/test/base:1"]);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("holds it for linux/amd64 only", refused.StandardError, StringComparison.Ordinal);
        Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(output));
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));

        var saved = await FerryCli.RunAsync(["save", "--daemon", "-H", env.Docker.Host, "--platform", "linux/amd64", "-o", output, .. compress, $"{env.Host}/test/base:1"]);
        Assert.True(saved.ExitCode == 0, saved.StandardError);
        (await FerryCli.RunAsync("verify", output)).EnsureSuccess("ferry verify");
    }

    [Fact]
    public async Task LoadIntoEngine_AnArm64OnlyArchive_LoadsAsDockerLoadDoes_AndTakesAName()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("arm.tar");
        (await FerryCli.RunAsync("save", "--platform", "linux/arm64", "-o", archive, $"{env.Host}/test/armonly:1")).EnsureSuccess("ferry save arm64");

        var load = await FerryCli.RunAsync("load", archive, "--daemon", "-H", env.Docker.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal("arm64", (await env.Docker.DockerAsync("image", "inspect", "--format", "{{.Architecture}}", $"{env.Host}/test/armonly:1")).EnsureSuccess("inspect").StandardOutput.Trim());

        var named = await FerryCli.RunAsync("load", archive, "--daemon", "-H", env.Docker.Host, "--as", "anyany/arm:renamed");
        Assert.True(named.ExitCode == 0, named.StandardError);
        (await env.Docker.DockerAsync("image", "inspect", "anyany/arm:renamed")).EnsureSuccess("the renamed image");

        var twoPlatforms = await FerryCli.RunAsync("load", archive, "--daemon", "-H", env.Docker.Host, "--platform", "linux/amd64,linux/arm64");
        Assert.Equal(1, twoPlatforms.ExitCode);
        Assert.Contains("holds one platform of each image", twoPlatforms.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--jobs", "7")]
    [InlineData("--mount-from", "x")]
    [InlineData("--no-referrers", null)]
    [InlineData("--manifest-format", "oci")]
    public async Task LoadIntoEngine_RefusesRegistryOnlyFlags(string flag, string? value)
    {
        using var dir = new TempDirectory();
        string[] arguments = value is null ? ["load", dir.File("x.tar"), "--daemon", "-H", env.Docker.Host, flag] : ["load", dir.File("x.tar"), "--daemon", "-H", env.Docker.Host, flag, value];
        var load = await FerryCli.RunAsync(arguments);
        Assert.Equal(1, load.ExitCode);
        Assert.Contains($"{flag} is for loading into a registry", load.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--source-registry", "registry:5000")]
    [InlineData("--cache", "/tmp")]
    [InlineData("--no-referrers", null)]
    [InlineData("--max-concurrent-downloads", "4")]
    public async Task SaveFromEngine_RefusesRegistryOnlyFlags(string flag, string? value)
    {
        using var dir = new TempDirectory();
        string[] arguments = ["save", "--daemon", "-H", env.Docker.Host, "-o", dir.File("x.tar"), "app:1", flag];
        var save = await FerryCli.RunAsync(value is null ? arguments : [.. arguments, value]);
        Assert.Equal(1, save.ExitCode);
        Assert.Contains($"{flag} is for saving from registries", save.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Copy_WithoutADestination_OrWithAnAmbiguousOne_IsOneLine()
    {
        var none = await FerryCli.RunAsync("copy", $"docker://{env.Host}/test/app:1");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("say where to copy", none.StandardError, StringComparison.Ordinal);
        var ambiguous = await FerryCli.RunAsync("copy", $"docker://{env.Host}/test/app:1", "registry:5000/app:1");
        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Contains("say what the destination is", ambiguous.StandardError, StringComparison.Ordinal);
    }

    private static string ManifestFile(string layout)
    {
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(layout, "index.json")))!;
        var digest = (string)index["manifests"]![0]!["digest"]!;
        return Path.Combine(layout, "blobs", "sha256", digest[7..]);
    }

    private Task<ProcessResult> CopyAsync(string source, string destination, params string[] more) =>
        FerryCli.RunAsync(["copy", source, destination, .. (source + destination).Contains("docker-daemon:", StringComparison.Ordinal) ? new[] { "-H", env.Docker.Host } : [], .. more]);

    private async Task<string> ImageIdAsync(string image) =>
        (await env.Docker.DockerAsync("image", "inspect", "--format", "{{.Id}}", image)).EnsureSuccess("docker image inspect").StandardOutput.Trim();

    private async Task<string> ConfigDigestAsync(string repository, string tag) =>
        (string)JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, repository, tag))!["config"]!["digest"]!;
}
