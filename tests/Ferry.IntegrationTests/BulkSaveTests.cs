using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>Bulk bundles from an image list: parallel jobs, failures, failed list, compression.</summary>
[Collection(RealComponentsCollection.Name)]
public sealed class BulkSaveTests(RealComponentsFixture env) : IAsyncLifetime
{
    private static readonly string[] BulkRepositories = Enumerable.Range(1, 7).Select(i => $"test/bulk{i}").ToArray();

    public async Task InitializeAsync()
    {
        // Seven more images on the shared busybox base, each with a small layer of its own.
        using var http = new HttpClient();
        var baseLayer = TestImages.BusyboxLayer(docker: true);
        foreach (var repository in BulkRepositories)
        {
            var own = TestImages.Layer(new Dictionary<string, byte[]> { ["name.txt"] = System.Text.Encoding.UTF8.GetBytes(repository) }, docker: true);
            await TestImages.PushImageAsync(http, env.Host, repository, TestImages.Image([baseLayer, own], docker: true, label: repository), "1");
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Save_ListWithThreeBadLines_SavesTheRestWritesTheFailedListAndExits2()
    {
        using var dir = new TempDirectory();
        var h = env.Host;
        var good = new[] { $"{h}/test/base:1", $"{h}/test/app:1", $"{h}/test/oci:1", $"{h}/test/multi:1", $"{h}/test/dlist:1", $"{h}/test/armonly:1" }
            .Concat(BulkRepositories.Select(r => $"{h}/{r}:1")).ToList();
        var lines = new List<string> { "\uFEFF# bundle for the test", "", "// a comment", $"  {good[0]}  " };
        lines.AddRange(good.Skip(1).Take(5));
        lines.Add($"{h}/test/base:9.9");
        lines.AddRange(good.Skip(6).Take(4));
        lines.Add($"{h}/test/nosuchrepo:1");
        lines.Add("Bad Line!");
        lines.AddRange(good.Skip(10));
        await File.WriteAllTextAsync(dir.File("images.txt"), string.Join("\r\n", lines) + "\r\n");
        var failed = dir.File("failed.txt");
        var archive = dir.File("bundle.tar");

        var result = await FerryCli.RunAsync("save", "-f", dir.File("images.txt"), "-o", archive, "-j", "8", "-a", "amd64,arm64", "--failed", failed);

        Assert.True(result.ExitCode == 2, result.StandardError);
        Assert.Contains($"saved {good.Count} of {good.Count + 3} images", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("line 16: failed: invalid reference", result.StandardError, StringComparison.Ordinal);
        Assert.Equal([$"{h}/test/base:9.9", $"{h}/test/nosuchrepo:1", "Bad Line!"], await File.ReadAllLinesAsync(failed));

        var names = RealComponentsFixture.EntryNames(archive);
        Assert.Single(names, n => n == "blobs/sha256/" + env.BaseLayerDigest[7..]);
        Assert.Equal(names.Count, names.Distinct().Count());
        var index = RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]!.AsArray();
        Assert.Equal(good, index.Select(e => (string?)e!["annotations"]!["io.containerd.image.name"]));

        var load = (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load");
        foreach (var image in good)
        {
            Assert.Contains($"Loaded image: {image}", load.StandardOutput, StringComparison.Ordinal);
        }

        (await FerryCli.RunAsync("verify", archive)).EnsureSuccess("ferry verify");
    }

    [Fact]
    public async Task Save_ListOnStdin_IsReadWhenNoImagesAndNoFileAreGiven()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("stdin.tar");
        var result = await FerryCli.RunWithStdinAsync($"# from stdin\n{env.Host}/test/base:1\n{env.Host}/test/bulk2:1\n", "save", "-o", archive);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var index = RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]!.AsArray();
        Assert.Equal(2, index.Count);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("21")]
    public async Task Save_JobsOutsideOneToTwenty_IsAClearError(string jobs)
    {
        using var dir = new TempDirectory();
        var result = await FerryCli.RunAsync("save", "-j", jobs, "-o", dir.File("x.tar"), $"{env.Host}/test/base:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal($"ferry: error: --jobs must be between 1 and 20, not {jobs}", result.StandardError.Trim());
    }

    [Fact]
    public async Task Save_ProgressJson_EmitsOneObjectPerEventOnStderr()
    {
        using var dir = new TempDirectory();
        var result = await FerryCli.RunAsync("save", "--progress", "json", "-o", dir.File("j.tar"), $"{env.Host}/test/app:1");
        Assert.True(result.ExitCode == 0, result.StandardError);
        var events = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["event"]!.GetValue<string>()).ToList();
        Assert.Equal("image-resolved", events[0]);
        Assert.Contains("download-started", events);
        Assert.Contains("blob-done", events);
        Assert.Contains("image-saved", events);
    }

    [Fact]
    public async Task Save_ProgressJson_TellsWhatKindOfFailureEachImageMet()
    {
        using var dir = new TempDirectory();
        await File.WriteAllLinesAsync(dir.File("mixed.txt"), [$"{env.Host}/test/app:1", $"{env.Host}/test/none:1", $"{env.Host}/test/armonly:1"]);
        var result = await FerryCli.RunAsync("save", "--progress", "json", "-f", dir.File("mixed.txt"), "-o", dir.File("m.tar"), "--failed", dir.File("f.txt"));
        Assert.Equal(2, result.ExitCode);
        var failures = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!)
            .Where(e => (string?)e["event"] == "image-failed").ToDictionary(e => (string)e["image"]!, e => (string?)e["kind"]);
        Assert.Equal("not-found", failures[$"{env.Host}/test/none:1"]);
        Assert.Equal("platform-not-found", failures[$"{env.Host}/test/armonly:1"]);
    }

    [Fact]
    public async Task Save_RetryFromTheFailedList_FailsOnlyTheStillBadLines()
    {
        using var dir = new TempDirectory();
        await File.WriteAllLinesAsync(dir.File("retry.txt"), [$"{env.Host}/test/base:1", "also bad!"]);
        var result = await FerryCli.RunAsync("save", "-f", dir.File("retry.txt"), "-o", dir.File("r.tar"), "--failed", dir.File("again.txt"));
        Assert.Equal(2, result.ExitCode);
        Assert.Equal(["also bad!"], await File.ReadAllLinesAsync(dir.File("again.txt")));
    }

    [Fact]
    public async Task Save_ListWhereEverythingFails_Exits1WithoutAnArchive()
    {
        using var dir = new TempDirectory();
        await File.WriteAllLinesAsync(dir.File("bad.txt"), [$"{env.Host}/test/none:1"]);
        var result = await FerryCli.RunAsync("save", "-f", dir.File("bad.txt"), "-o", dir.File("x.tar"), "--failed", dir.File("f.txt"));
        Assert.Equal(1, result.ExitCode);
        Assert.False(File.Exists(dir.File("x.tar")));
        Assert.True(File.Exists(dir.File("f.txt")));
    }

    [Fact]
    public async Task Save_SourceRegistryOverride_PullsFromItAndKeepsTheListedNames()
    {
        using var dir = new TempDirectory();
        await File.WriteAllLinesAsync(dir.File("list.txt"), ["mirror.invalid:5000/test/base:1", "test/app:1"]);
        var archive = dir.File("s.tar");
        var result = await FerryCli.RunAsync("save", "-f", dir.File("list.txt"), "-s", env.Host, "-o", archive);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var index = RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]!.AsArray();
        Assert.Equal(["mirror.invalid:5000/test/base:1", "docker.io/test/app:1"], index.Select(e => (string?)e!["annotations"]!["io.containerd.image.name"]));
        Assert.Equal(env.Digests["test/app:1"], (string?)index[1]!["digest"]);
    }

    [Fact]
    public async Task Save_GzipBundle_DockerLoadsItAndFerryVerifiesIt()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("bundle.tar.gz");
        (await FerryCli.RunAsync("save", "--compress", "gzip", "-o", archive, $"{env.Host}/test/app:1", $"{env.Host}/test/bulk1:1")).EnsureSuccess("ferry save gzip");
        var head = new byte[2];
        await using (var file = File.OpenRead(archive))
        {
            await file.ReadExactlyAsync(head);
        }

        Assert.Equal(new byte[] { 0x1f, 0x8b }, head);
        var load = (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load gzip");
        Assert.Contains($"Loaded image: {env.Host}/test/bulk1:1", load.StandardOutput, StringComparison.Ordinal);
        (await FerryCli.RunAsync("verify", archive)).EnsureSuccess("ferry verify gzip");
    }

    [Theory]
    [InlineData("zstd", "bundle.tar.zst")]
    [InlineData("dir", "bundle-dir")]
    [InlineData("none", "bundle.tar")]
    public async Task Save_CompressedOrDirectoryBundle_FerryReadsItBack(string compression, string name)
    {
        using var dir = new TempDirectory();
        var output = dir.File(name);
        (await FerryCli.RunAsync("save", "-compress", compression, "-o", output, $"{env.Host}/test/app:1", $"{env.Host}/test/multi:1")).EnsureSuccess($"ferry save {compression}");
        var verify = (await FerryCli.RunAsync("verify", output)).EnsureSuccess($"ferry verify {compression}");
        Assert.Contains($"{env.Host}/test/app:1", verify.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{env.Host}/test/multi:1", verify.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_CorruptedOrTruncatedArchive_Exits1NamingTheProblem()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("v.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        var bytes = await File.ReadAllBytesAsync(archive);

        var flipped = (byte[])bytes.Clone();
        flipped[1536 + 100] ^= 0xff; // inside the first blob's data
        await File.WriteAllBytesAsync(dir.File("flipped.tar"), flipped);
        var bad = await FerryCli.RunAsync("verify", dir.File("flipped.tar"));
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("corrupt", bad.StandardError, StringComparison.Ordinal);

        await File.WriteAllBytesAsync(dir.File("short.tar"), bytes[..(bytes.Length / 2)]);
        var truncated = await FerryCli.RunAsync("verify", dir.File("short.tar"));
        Assert.Equal(1, truncated.ExitCode);
    }
}
