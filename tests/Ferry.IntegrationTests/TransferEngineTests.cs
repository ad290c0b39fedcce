using System.Formats.Tar;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// The transfer engine's promises, against the real registry (and skopeo): copy keeps every digest and moves a
/// shared blob once (counted at a proxy), load -j 8 uploads a shared base once, Docker 25 layouts with
/// "manifests": null, delta loads that find the base where an earlier load put it, --as on an unnamed layout,
/// archives on stdin, --image/--platform selection, and the partial summary counting shared layers once.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed partial class TransferEngineTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Copy_MultiImageMultiPlatformList_KeepsEveryManifestAndIndexDigest()
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var list = dir.File("images.txt");
        await File.WriteAllLinesAsync(list, ["# the bulk list", $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1", $"// an index", $"{env.Host}/test/multi:1", $"{env.Host}/test/dlist:1"]);

        var copy = await FerryCli.RunAsync("copy", "-f", list, "--all-platforms", "-j", "8", "--to", $"{target.Host}/mirror");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        foreach (var image in new[] { "test/app:1", "test/oci:1", "test/multi:1", "test/dlist:1" })
        {
            var (repository, tag) = (image.Split(':')[0], image.Split(':')[1]);
            Assert.Equal(env.Digests[image], await ManifestDigestAsync(target.Host, "mirror/" + repository, tag));
            Assert.Contains($"{target.Host}/mirror/{image}\t{env.Digests[image]}", copy.StandardOutput, StringComparison.Ordinal);
        }

        // Every platform of the index came along: skopeo pulls them all back.
        var skopeo = Components.Require("skopeo", "skopeo");
        (await ProcessRunner.RunAsync(skopeo, ["copy", "--all", "--src-tls-verify=false", $"docker://{target.Host}/mirror/test/multi:1", $"oci:{dir.File("pulled")}:m"])).EnsureSuccess("skopeo copy back");
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Copy_BaseSharedByFourImages_IsUploadedOnceAndMountedThreeTimes()
    {
        var (images, shared, _) = await SeedSharedBaseAsync("copyshare", 4);
        await using var target = await RegistryProcess.StartAsync();
        await using var proxy = await CountingProxy.StartAsync(target.Host);

        var copy = await FerryCli.RunAsync(["copy", "-j", "8", "--to", proxy.Host, .. images]);
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal(1, proxy.Uploads(shared.Digest));
        Assert.Equal(3, proxy.Mounts(shared.Digest));
    }

    [Fact]
    public async Task Copy_WithinOneRegistry_MountsFromTheSourceRepositoryAndUploadsNothing()
    {
        await using var proxy = await CountingProxy.StartAsync(env.Host);
        var copy = await FerryCli.RunAsync("copy", $"{proxy.Host}/test/app:1", "--to", $"{proxy.Host}/copied");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal(env.Digests["test/app:1"], await ManifestDigestAsync(env.Host, "copied/test/app", "1"));
        Assert.DoesNotContain(proxy.Requests, r => r.Method == "PUT" && r.Path.Contains("/blobs/", StringComparison.Ordinal));
        Assert.Equal(3, proxy.Requests.Count(r => r.Method == "POST" && r.Status == 201 && r.Query.Contains("mount=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Load_BaseSharedByFourImagesWithEightJobs_IsUploadedOnce_BytesWithinOnePercentOfTheUniqueBlobs()
    {
        var (images, shared, seeded) = await SeedSharedBaseAsync("loadshare", 4);
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync(["save", "-o", bundle, .. images])).EnsureSuccess("ferry save");
        await using var target = await RegistryProcess.StartAsync();
        await using var proxy = await CountingProxy.StartAsync(target.Host);

        var load = await FerryCli.RunAsync("load", "-j", "8", bundle, "--to", proxy.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal(1, proxy.Uploads(shared.Digest));
        Assert.Equal(3, proxy.Mounts(shared.Digest));
        Assert.Equal(3, Regex.Count(load.StandardError, @"\), 1 mounted"));

        // Bytes uploaded: every distinct blob (configs and layers) once; manifests are pushed as manifests.
        var uniqueBlobBytes = seeded.SelectMany(i => i.Layers.Append(i.Config)).DistinctBy(b => b.Digest).Sum(b => (long)b.Content.Length);
        Assert.InRange(proxy.UploadedBytes, uniqueBlobBytes, (long)(uniqueBlobBytes * 1.01));
    }

    [Fact]
    public async Task DockerSave25LayoutWithNullManifests_IsInspectedVerifiedAndLoadedThroughManifestJson()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("docker25.tar");
        WriteDocker25UntaggedSave(archive);

        var inspect = await FerryCli.RunAsync("inspect", archive);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        Assert.Contains("(unnamed)", inspect.StandardOutput, StringComparison.Ordinal);
        var verify = await FerryCli.RunAsync("verify", archive);
        Assert.True(verify.ExitCode == 0, verify.StandardError);

        await using var target = await RegistryProcess.StartAsync();
        var unnamed = await FerryCli.RunAsync("load", archive, "--to", target.Host);
        Assert.Equal(1, unnamed.ExitCode);
        Assert.Contains("--as", unnamed.StandardError, StringComparison.Ordinal);

        var load = await FerryCli.RunAsync("load", archive, "--as", $"{target.Host}/d25/app:1");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains("manifest built from the archive's layers", load.StandardError, StringComparison.Ordinal);
        Assert.StartsWith("sha256:", await ManifestDigestAsync(target.Host, "d25/app", "1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delta_AfterItsBaseWasLoadedUnderTheSamePrefix_IsLoadedWithTheBaseMounted()
    {
        await using var target = await RegistryProcess.StartAsync();
        using var dir = new TempDirectory();
        var base_ = dir.File("base.tar");
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", base_, $"{env.Host}/test/base:1")).EnsureSuccess("ferry save base");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude", $"{env.Host}/test/base:1", $"{env.Host}/test/app:1")).EnsureSuccess("ferry save delta");

        var refused = await FerryCli.RunAsync("load", delta, "--to", $"{target.Host}/p");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"Looked in {target.Host}/p/test/app, {target.Host}/p/test/base", refused.StandardError, StringComparison.Ordinal);

        (await FerryCli.RunAsync("load", base_, "--to", $"{target.Host}/p")).EnsureSuccess("ferry load base");
        var load = await FerryCli.RunAsync("load", delta, "--to", $"{target.Host}/p");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains("1 mounted", load.StandardError, StringComparison.Ordinal);
        Assert.Equal(env.Digests["test/app:1"], await ManifestDigestAsync(target.Host, "p/test/app", "1"));
    }

    [Fact]
    public async Task Delta_IntoTheRegistryTheBaseCameFrom_FindsItInTheExcludedImagesOwnRepository()
    {
        using var dir = new TempDirectory();
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude", $"{env.Host}/test/base:1", $"{env.Host}/test/app:1")).EnsureSuccess("ferry save delta");
        var load = await FerryCli.RunAsync("load", delta, "--to", $"{env.Host}/deltas");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal(env.Digests["test/app:1"], await ManifestDigestAsync(env.Host, "deltas/test/app", "1"));
    }

    [Fact]
    public async Task UnnamedSkopeoLayout_IsRefusedByTo_AndPushedByAsWithTheSameDigest()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        using var dir = new TempDirectory();
        var layout = dir.File("layout");
        (await ProcessRunner.RunAsync(skopeo, ["copy", "--src-tls-verify=false", $"docker://{env.Host}/test/oci:1", $"oci:{layout}:v1"])).EnsureSuccess("skopeo copy oci:");
        await using var target = await RegistryProcess.StartAsync();

        var refused = await FerryCli.RunAsync("load", layout, "--to", target.Host);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("name it (--as: REGISTRY/REPOSITORY:TAG)", refused.StandardError, StringComparison.Ordinal);

        var load = await FerryCli.RunAsync("load", layout, "--as", $"{target.Host}/team/app:2.0");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal(env.Digests["test/oci:1"], await ManifestDigestAsync(target.Host, "team/app", "2.0"));
    }

    [Fact]
    public async Task ArchivesOnStdin_AreLoadedInspectedAndVerified_AndTheSpoolIsRemoved()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        var zstd = dir.File("bundle.tar.zst");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");
        (await FerryCli.RunAsync("save", "-c", "zstd", "-o", zstd, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save zstd");
        await using var target = await RegistryProcess.StartAsync();
        var tmp = dir.File("tmp");
        Directory.CreateDirectory(tmp);
        var environment = new Dictionary<string, string> { ["TMPDIR"] = tmp };
        var ferry = $"dotnet {FerryCli.AssemblyPath}";

        var load = await ProcessRunner.RunAsync("bash", ["-c", $"gzip -c {bundle} | {ferry} load - --to {target.Host}"], TimeSpan.FromMinutes(3), environment);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains("from stdin into a temporary file", load.StandardError, StringComparison.Ordinal);
        Assert.Equal(env.Digests["test/oci:1"], await ManifestDigestAsync(target.Host, "test/oci", "1"));

        var inspect = await ProcessRunner.RunAsync("bash", ["-c", $"{ferry} inspect - < {bundle}"], TimeSpan.FromMinutes(3), environment);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        Assert.Contains($"{env.Host}/test/app:1", inspect.StandardOutput, StringComparison.Ordinal);
        var verify = await ProcessRunner.RunAsync("bash", ["-c", $"{ferry} verify - < {zstd}"], TimeSpan.FromMinutes(3), environment);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Contains("compression: zstd", verify.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(tmp));
    }

    [Fact]
    public async Task Load_ImageAndPlatformSelection_PushesOnlyThatImageAndPlatform()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "--all-platforms", "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save");
        await using var target = await RegistryProcess.StartAsync();

        var load = await FerryCli.RunAsync("load", bundle, "--to", target.Host, "--image", $"{env.Host}/test/multi:1", "--platform", "linux/arm64");
        Assert.True(load.ExitCode == 0, load.StandardError);
        using var http = new HttpClient();
        var index = JsonNode.Parse(await RegistryManifests.GetAsync(target.Host, "test/multi", "1"))!;
        var entry = Assert.Single(index["manifests"]!.AsArray());
        Assert.Equal(env.Images["test/multi:1/arm64"].Manifest.Digest, (string)entry!["digest"]!);
        using var app = await http.GetAsync($"http://{target.Host}/v2/test/app/manifests/1");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, app.StatusCode);

        var missing = await FerryCli.RunAsync("load", bundle, "--to", target.Host, "--image", $"{env.Host}/test/nothere:1");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("no image of that name", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PartialSummary_CountsALayerSharedByTwoImagesOnce()
    {
        using var dir = new TempDirectory();
        string[] images = [$"{env.Host}/test/app:1", $"{env.Host}/test/dlist:1"]; // both hold the base layer
        var full = dir.File("full.tar");
        (await FerryCli.RunAsync(["save", "-o", full, .. images])).EnsureSuccess("ferry save full");
        var unique = (long)JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", full)).StandardOutput)!["uniqueBytes"]!;
        var baseSize = env.Images["test/base:1"].Layers[0].Content.Length;

        var delta = await FerryCli.RunAsync(["save", "-o", dir.File("delta.tar"), "--exclude", $"{env.Host}/test/base:1", .. images]);
        Assert.True(delta.ExitCode == 0, delta.StandardError);
        var saved = double.Parse(SavedPercent().Match(delta.StandardError).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Equal(Math.Round(100.0 * baseSize / unique, 1), saved, 1);
    }

    /// <summary>N images that share one 1 MiB base layer, each with a small layer of its own, pushed with the registry API.</summary>
    private async Task<(List<string> Images, TestBlob Shared, List<TestImage> Seeded)> SeedSharedBaseAsync(string prefix, int count)
    {
        using var http = new HttpClient();
        var shared = TestImages.RandomLayer($"{prefix}-base", 1 << 20, docker: true);
        var images = new List<string>();
        var seeded = new List<TestImage>();
        for (var i = 0; i < count; i++)
        {
            var own = TestImages.Layer(new Dictionary<string, byte[]> { [$"{prefix}{i}.txt"] = Encoding.UTF8.GetBytes($"image {i}") }, docker: true);
            var image = TestImages.Image([shared, own], docker: true, label: $"{prefix}{i}");
            await TestImages.PushImageAsync(http, env.Host, $"{prefix}/img{i}", image, "1");
            images.Add($"{env.Host}/{prefix}/img{i}:1");
            seeded.Add(image);
        }

        return (images, shared, seeded);
    }

    /// <summary>What Docker 25+ writes for `docker save` of an untagged image: an OCI layout whose index.json has "manifests": null, and manifest.json.</summary>
    private static void WriteDocker25UntaggedSave(string path)
    {
        var layerTar = new MemoryStream();
        using (var writer = new TarWriter(layerTar, TarEntryFormat.Pax, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "hello.txt") { DataStream = new MemoryStream("hello from docker 25"u8.ToArray()) });
        }

        var layer = layerTar.ToArray();
        string Sha(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:{{Sha(layer)}}"]} }""");
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{{Sha(config)}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{{Sha(layer)}}","size":{{layer.Length}}}]}""");
        using var file = File.Create(path);
        using var tar = new TarWriter(file, TarEntryFormat.Pax);
        void Add(string name, byte[] data) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        Add($"blobs/sha256/{Sha(config)}", config);
        Add($"blobs/sha256/{Sha(layer)}", layer);
        Add($"blobs/sha256/{Sha(manifest)}", manifest);
        Add("index.json", """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}"""u8.ToArray());
        Add("manifest.json", Encoding.UTF8.GetBytes($$"""[{"Config":"blobs/sha256/{{Sha(config)}}","RepoTags":null,"Layers":["blobs/sha256/{{Sha(layer)}}"]}]"""));
        Add("oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray());
    }

    private static Task<string> ManifestDigestAsync(string registry, string repository, string reference) => RegistryManifests.DigestAsync(registry, repository, reference);

    [GeneratedRegex(@"saved ([0-9.]+)%")]
    private static partial Regex SavedPercent();
}
