using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// <c>ferry load</c> into a fresh real registry: Ferry's own bundles (digests unchanged, checked by the
/// registry and by skopeo), and archives written by docker save, podman save -m and skopeo — each pushed and
/// then pulled and run by the real dockerd. Plus <c>ferry inspect</c>.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class LoadTests(RealComponentsFixture env)
{
    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    public async Task RoundTrip_MultiImageMultiPlatformBundle_KeepsEveryDigest(string compression)
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "--all-platforms", "-c", compression, "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1", $"{env.Host}/test/multi:1", $"{env.Host}/test/dlist:1")).EnsureSuccess("ferry save");

        var load = await FerryCli.RunAsync("load", bundle, "--to", $"{target.Host}/mirror");
        Assert.True(load.ExitCode == 0, load.StandardError);
        foreach (var image in new[] { "test/app:1", "test/oci:1", "test/multi:1", "test/dlist:1" })
        {
            var (repository, tag) = (image.Split(':')[0], image.Split(':')[1]);
            Assert.Equal(env.Digests[image], await ManifestDigestAsync(target.Host, "mirror/" + repository, tag));
            Assert.Contains($"{target.Host}/mirror/{image}\t{env.Digests[image]}", load.StandardOutput, StringComparison.Ordinal);
        }

        // An independent reader pulls every platform of the index back.
        var skopeo = Components.Require("skopeo", "skopeo");
        (await ProcessRunner.RunAsync(skopeo, ["copy", "--all", "--src-tls-verify=false", $"docker://{target.Host}/mirror/test/multi:1", $"oci:{dir.File("pulled")}:m"])).EnsureSuccess("skopeo copy back");

        // Loading again uploads nothing: every blob is already there.
        var again = await FerryCli.RunAsync("load", bundle, "--to", $"{target.Host}/mirror");
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.DoesNotContain("uploaded (", again.StandardError.Replace(": 0 uploaded (0 B)", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SharedBaseLayer_IsUploadedOnceAndMountedIntoTheOtherRepository()
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/base:1", $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        var load = await FerryCli.RunAsync("load", "-j", "1", bundle, "--to", target.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains("1 mounted", load.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerSaveArchive_IsPushedWithBuiltManifestsAndRunsFromTheRegistry()
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        (await env.Docker.DockerAsync("tag", $"{env.Host}/test/app:1", "dockersaved/app:1")).EnsureSuccess("docker tag");
        var archive = dir.File("docker-save.tar");
        (await env.Docker.DockerAsync("save", "-o", archive, "dockersaved/app:1")).EnsureSuccess("docker save");

        var load = await FerryCli.RunAsync("load", archive, "--to", target.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains("manifest built from the archive's layers", load.StandardError, StringComparison.Ordinal);
        await RunFromRegistryAsync($"{target.Host}/dockersaved/app:1", "/app.txt", "hello from app");
    }

    [Theory]
    [InlineData("docker-archive")]
    [InlineData("oci-archive")]
    public async Task SkopeoArchives_ArePushedAndRun(string transport)
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var archive = dir.File($"skopeo-{transport}.tar");
        (await ProcessRunner.RunAsync(skopeo, ["copy", "--src-tls-verify=false", $"docker://{env.Host}/test/oci:1", $"{transport}:{archive}:skopeo/oci:1"])).EnsureSuccess("skopeo copy");

        var load = await FerryCli.RunAsync("load", archive, "--to", target.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        if (transport == "oci-archive")
        {
            // skopeo's oci-archive keeps the registry manifest: the digest survives.
            Assert.Equal(env.Digests["test/oci:1"], await ManifestDigestAsync(target.Host, "skopeo/oci", "1"));
        }

        await RunFromRegistryAsync($"{target.Host}/skopeo/oci:1", "/oci.txt", "hello from oci");
    }

    [Fact]
    public async Task PodmanSaveMultiImage_IsPushedAndRuns()
    {
        var podman = Components.Require("podman", "podman");
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        string[] storage = ["--root", dir.File("root"), "--runroot", dir.File("runroot"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"];
        foreach (var image in new[] { "test/app:1", "test/oci:1" })
        {
            (await ProcessRunner.RunAsync(podman, [.. storage, "pull", "--tls-verify=false", $"{env.Host}/{image}"])).EnsureSuccess("podman pull");
        }

        var archive = dir.File("podman.tar");
        (await ProcessRunner.RunAsync(podman, [.. storage, "save", "-m", "-o", archive, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1"])).EnsureSuccess("podman save -m");

        var load = await FerryCli.RunAsync("load", archive, "--to", $"{target.Host}/podman");
        Assert.True(load.ExitCode == 0, load.StandardError);
        await RunFromRegistryAsync($"{target.Host}/podman/test/app:1", "/app.txt", "hello from app");
        await RunFromRegistryAsync($"{target.Host}/podman/test/oci:1", "/oci.txt", "hello from oci");
    }

    [Fact]
    public async Task Inspect_ShowsImagesPlatformsAndSharedContentOnce()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-a", "amd64,arm64", "-o", bundle, $"{env.Host}/test/base:1", $"{env.Host}/test/app:1", $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save");

        var table = await FerryCli.RunAsync("inspect", bundle);
        Assert.True(table.ExitCode == 0, table.StandardError);
        Assert.Contains($"{env.Host}/test/multi:1", table.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("linux/amd64,linux/arm64/v8", table.StandardOutput, StringComparison.Ordinal);

        var json = await FerryCli.RunAsync("inspect", "--json", bundle);
        Assert.True(json.ExitCode == 0, json.StandardError);
        var document = JsonNode.Parse(json.StandardOutput)!;
        var images = document["images"]!.AsArray();
        Assert.Equal(3, images.Count);
        var sum = images.Sum(i => (long)i!["size"]!);
        Assert.True((long)document["uniqueBytes"]! < sum, "the shared base layer is counted once in the total");
        Assert.Equal(env.Digests["test/app:1"], (string)images.Single(i => ((string)i!["name"]!).EndsWith("test/app:1", StringComparison.Ordinal))!["digest"]!);
    }

    [Fact]
    public async Task UnnamedImage_FailsAloneAndIsListed_TheRestIsLoaded()
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var named = dir.File("named.tar");
        (await FerryCli.RunAsync("save", "-o", named, $"{env.Host}/test/base:1")).EnsureSuccess("ferry save");
        var unnamed = dir.File("unnamed");
        (await FerryCli.RunAsync("save", "--format", "dir", "-o", unnamed, $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save dir");
        var index = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(unnamed, "index.json")))!;
        index["manifests"]![0]!.AsObject().Remove("annotations");
        await File.WriteAllTextAsync(Path.Combine(unnamed, "index.json"), index.ToJsonString());

        var failed = dir.File("failed.txt");
        var load = await FerryCli.RunAsync("load", named, unnamed, "--to", target.Host, "--failed", failed);
        Assert.Equal(2, load.ExitCode);
        Assert.Contains("has no name in the archive", load.StandardError, StringComparison.Ordinal);
        var listed = (await File.ReadAllLinesAsync(failed)).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal([env.Digests["test/oci:1"]], listed);
        Assert.Contains($"# retry: ferry load {named} {unnamed} --to {target.Host} --images-from {failed}", await File.ReadAllTextAsync(failed), StringComparison.Ordinal);
        Assert.Equal(env.Digests["test/base:1"], await ManifestDigestAsync(target.Host, "test/base", "1"));

        // The list is re-runnable: it selects exactly the image that failed, which --as can now name.
        var retry = await FerryCli.RunAsync("load", named, unnamed, "--as", $"{target.Host}/named/oci:1", "--images-from", failed);
        Assert.True(retry.ExitCode == 0, retry.StandardError);
        Assert.Equal(env.Digests["test/oci:1"], await ManifestDigestAsync(target.Host, "named/oci", "1"));
    }

    [Fact]
    public async Task HostileArchive_OneClearLineAndNothingPushed()
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var archive = dir.File("evil.tar");
        await using (var file = File.Create(archive))
        using (var writer = new System.Formats.Tar.TarWriter(file))
        {
            writer.WriteEntry(new System.Formats.Tar.PaxTarEntry(System.Formats.Tar.TarEntryType.RegularFile, "manifest.json") { DataStream = new MemoryStream("[{\"Config\":\"c.json\",\"RepoTags\":[\"evil:1\"],\"Layers\":[\"../../etc/passwd\"]}]"u8.ToArray()) });
        }

        var load = await FerryCli.RunAsync("load", archive, "--to", target.Host);
        Assert.Equal(1, load.ExitCode);
        var line = Assert.Single(load.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("escapes the archive", line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(target.DataDirectory) && Directory.EnumerateFileSystemEntries(target.DataDirectory).Any(), "something reached the registry's storage");
    }

    [Fact]
    public async Task Daemon_FerryBundleWithAnIndex_IsLoadedAndRuns()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar.gz");
        (await FerryCli.RunAsync("save", "--all-platforms", "-c", "gzip", "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save");
        foreach (var image in new[] { "test/app:1", "test/multi:1" })
        {
            await env.Docker.DockerAsync("rmi", "-f", $"{env.Host}/{image}");
        }

        var load = await FerryCli.RunAsync("load", bundle, "--daemon", "--docker-host", env.Docker.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains($"Loaded image: {env.Host}/test/multi:1", load.StandardError, StringComparison.Ordinal);
        Assert.Equal("hello from app", await env.Docker.RunAsync($"{env.Host}/test/app:1", "cat", "/app.txt"));
        Assert.Equal("amd64", await env.Docker.RunAsync($"{env.Host}/test/multi:1", "cat", "/arch.txt"));
    }

    [Fact]
    public async Task Daemon_ErrorReportedInsideA200_IsSurfacedAsAFailure()
    {
        // A layout whose config names the wrong diff_id: every blob matches its digest, so only the daemon
        // notices — and it says so inside its 200 response.
        using var dir = new TempDirectory();
        var layout = Directory.CreateDirectory(dir.File("broken")).FullName;
        var layer = TestImages.Layer(new Dictionary<string, byte[]> { ["x.txt"] = "x"u8.ToArray() }, docker: false);
        var config = new TestBlob(System.Text.Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" + new string('0', 64) + "\"]}}"), "application/vnd.oci.image.config.v1+json");
        var manifest = new TestBlob(System.Text.Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImages.OciManifest,
            ["config"] = config.Descriptor(),
            ["layers"] = new JsonArray(layer.Descriptor()),
        }.ToJsonString()), TestImages.OciManifest);
        Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256"));
        foreach (var blob in new[] { layer, config, manifest })
        {
            await File.WriteAllBytesAsync(Path.Combine(layout, "blobs", "sha256", blob.Digest[7..]), blob.Content);
        }

        await File.WriteAllTextAsync(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        var entry = manifest.Descriptor();
        entry["annotations"] = new JsonObject { ["io.containerd.image.name"] = "broken/app:1" };
        await File.WriteAllTextAsync(Path.Combine(layout, "index.json"), new JsonObject { ["schemaVersion"] = 2, ["manifests"] = new JsonArray(entry) }.ToJsonString());

        var load = await FerryCli.RunAsync("load", layout, "--daemon", "--docker-host", env.Docker.Host);
        Assert.Equal(1, load.ExitCode);
        var line = Assert.Single(load.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("the Docker daemon", line, StringComparison.Ordinal);
        Assert.Contains("refused the load", line, StringComparison.Ordinal);
        Assert.Contains("diffID", line, StringComparison.OrdinalIgnoreCase);
    }

    private async Task RunFromRegistryAsync(string reference, string file, string expected)
    {
        (await env.Docker.DockerAsync("pull", reference)).EnsureSuccess("docker pull " + reference);
        Assert.Equal(expected, await env.Docker.RunAsync(reference, "cat", file));
        await env.Docker.DockerAsync("rmi", reference);
    }

    private static Task<string> ManifestDigestAsync(string host, string repository, string tag) => RegistryManifests.DigestAsync(host, repository, tag);
}
