using System.Text.Json;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// The cross-run blob cache (#16, <c>--cache DIR</c>): against the real registry behind a proxy that counts every
/// blob request, so "taken from the cache" means the registry was not asked.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class CacheTests(RealComponentsFixture env)
{
    private const int LayerSize = 256 * 1024;

    [Fact]
    public async Task SecondSave_WithOneImageChanged_DownloadsOnlyThatImagesNewBlobs()
    {
        var corpus = await PushCorpusAsync("cache-next");
        await using var proxy = await CountingProxy.StartAsync(env.Host);
        using var dir = new TempDirectory();
        var cache = dir.File("cache");
        var references = corpus.Select(c => $"{proxy.Host}/{c.Name}").ToArray();

        var first = await FerryCli.RunAsync(["save", "--cache", cache, "-o", dir.File("a.tar"), .. references]);
        Assert.True(first.ExitCode == 0, first.StandardError);
        var everyBlob = corpus.SelectMany(c => c.Image.Layers.Append(c.Image.Config)).Select(b => b.Digest).ToHashSet();
        Assert.Equal(everyBlob, BlobGets(proxy).ToHashSet());

        // Next month: image 2 gets a new layer under the same tag.
        using var http = new HttpClient();
        var changed = TestImages.Image([corpus[0].Image.Layers[0], TestImages.RandomLayer("cache-next-changed" + Guid.NewGuid().ToString("N"), LayerSize, docker: false)], docker: false, label: "changed");
        await TestImages.PushImageAsync(http, env.Host, corpus[1].Repository, changed, "1");
        proxy.Requests.Clear();

        var second = await FerryCli.RunAsync(["save", "--cache", cache, "-o", dir.File("b.tar"), .. references]);
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Equal(new[] { changed.Config.Digest, changed.Layers[1].Digest }.Order(StringComparer.Ordinal), BlobGets(proxy).Order(StringComparer.Ordinal));
        var verify = await FerryCli.RunAsync("verify", dir.File("b.tar"));
        Assert.True(verify.ExitCode == 0, verify.StandardError);

        // FERRY_CACHE is the same as --cache; copy reads through it too: nothing is downloaded.
        proxy.Requests.Clear();
        var copy = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["FERRY_CACHE"] = cache }, ["copy", "--to", $"{env.Host}/cached-copy", .. references]);
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Empty(BlobGets(proxy));
    }

    [Fact]
    public async Task TwoConcurrentSaves_SharingOneCache_BothSucceed_AndEachBlobIsStoredOnce()
    {
        var corpus = await PushCorpusAsync("cache-both");
        using var dir = new TempDirectory();
        var cache = dir.File("cache");
        var references = corpus.Select(c => $"{env.Host}/{c.Name}").ToArray();

        var runs = await Task.WhenAll(
            FerryCli.RunAsync(["save", "--cache", cache, "-o", dir.File("one.tar"), .. references]),
            FerryCli.RunAsync(["save", "--cache", cache, "-o", dir.File("two.tar"), .. references.Reverse()]));
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.StandardError));
        foreach (var archive in new[] { "one.tar", "two.tar" })
        {
            var verify = await FerryCli.RunAsync("verify", dir.File(archive));
            Assert.True(verify.ExitCode == 0, verify.StandardError);
        }

        var list = await FerryCli.RunAsync("cache", "ls", "--cache", cache, "--json");
        Assert.True(list.ExitCode == 0, list.StandardError);
        using var json = JsonDocument.Parse(list.StandardOutput);
        var listed = json.RootElement.GetProperty("blobs").EnumerateArray().Select(b => b.GetProperty("digest").GetString()!).ToList();
        var everyBlob = corpus.SelectMany(c => c.Image.Layers.Append(c.Image.Config)).Select(b => b.Digest).Distinct().ToList();
        Assert.Equal(everyBlob.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(cache, "tmp")));
    }

    [Fact]
    public async Task DirectoryOutput_HardLinksCachedBlobs_AndADamagedEntryIsFetchedAgain()
    {
        var corpus = await PushCorpusAsync("cache-link");
        await using var proxy = await CountingProxy.StartAsync(env.Host);
        using var dir = new TempDirectory();
        var cache = dir.File("cache");
        var references = corpus.Select(c => $"{proxy.Host}/{c.Name}").ToArray();
        Assert.Equal(0, (await FerryCli.RunAsync(["save", "--cache", cache, "-o", dir.File("first.tar"), .. references])).ExitCode);

        // A cached layer damaged on disk (same size, other bytes).
        var damaged = corpus[0].Image.Layers[1].Digest;
        var damagedPath = Path.Combine(cache, "blobs", "sha256", damaged["sha256:".Length..]);
        File.SetUnixFileMode(damagedPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await using (var file = File.OpenWrite(damagedPath))
        {
            file.Write(new byte[4096]);
        }

        proxy.Requests.Clear();
        var layout = dir.File("layout");
        var save = await FerryCli.RunAsync(["save", "--cache", cache, "--format", "dir", "-o", layout, .. references]);
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Equal([damaged], BlobGets(proxy));

        // Every layer in the layout is the cache's file (one inode, two names): no byte was copied for it.
        foreach (var layer in corpus.SelectMany(c => c.Image.Layers).Select(l => l.Digest).Where(d => d != damaged).Distinct())
        {
            var hex = layer["sha256:".Length..];
            Assert.Equal(await InodeAsync(Path.Combine(cache, "blobs", "sha256", hex)), await InodeAsync(Path.Combine(layout, "blobs", "sha256", hex)));
        }

        var verify = await FerryCli.RunAsync("verify", layout);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        var umoci = (await ProcessRunner.RunAsync(Components.Require("umoci", "umoci"), ["ls", "--layout", layout])).EnsureSuccess("umoci ls");
        Assert.Contains(references[2], umoci.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prune_KeepsTheMostRecentlyUsed_WithinTheSize()
    {
        var corpus = await PushCorpusAsync("cache-prune");
        using var dir = new TempDirectory();
        var cache = dir.File("cache");
        var references = corpus.Select(c => $"{env.Host}/{c.Name}").ToArray();
        Assert.Equal(0, (await FerryCli.RunAsync(["save", "--cache", cache, "-o", dir.File("all.tar"), .. references])).ExitCode);
        await Task.Delay(1100); // A use later than the first save's, at the file system's time resolution.
        Assert.Equal(0, (await FerryCli.RunAsync("save", "--cache", cache, "-o", dir.File("last.tar"), references[^1])).ExitCode);

        var prune = await FerryCli.RunAsync("cache", "prune", "--cache", cache, "--max-size", "600KiB");
        Assert.True(prune.ExitCode == 0, prune.StandardError);
        Assert.Contains("removed", prune.StandardError, StringComparison.Ordinal);
        var left = Directory.GetFiles(Path.Combine(cache, "blobs", "sha256"));
        Assert.True(left.Sum(f => new FileInfo(f).Length) <= 600 * 1024);
        var last = corpus[^1].Image;
        Assert.Contains(last.Layers[1].Digest["sha256:".Length..], left.Select(Path.GetFileName));

        var empty = await FerryCli.RunAsync("cache", "prune", "--cache", cache, "--max-size", "0");
        Assert.Equal(0, empty.ExitCode);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache, "blobs", "sha256")));
        var none = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["FERRY_CACHE"] = string.Empty }, "cache", "ls");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no cache given", none.StandardError, StringComparison.Ordinal);
    }

    private static List<string> BlobGets(CountingProxy proxy) =>
        [.. proxy.Requests.Where(r => r.Method == "GET" && r.Status == 200 && r.Path.Contains("/blobs/sha256:", StringComparison.Ordinal)).Select(r => r.Path[r.Path.LastIndexOf('/')..].TrimStart('/'))];

    private static async Task<string> InodeAsync(string path) =>
        (await ProcessRunner.RunAsync("stat", ["-c", "%i", path])).EnsureSuccess("stat").StandardOutput.Trim();

    /// <summary>Three images: a shared base layer and one unique layer each.</summary>
    private async Task<List<(string Repository, string Name, TestImage Image)>> PushCorpusAsync(string name)
    {
        using var http = new HttpClient();
        var seed = name + Guid.NewGuid().ToString("N")[..8];
        var shared = TestImages.RandomLayer(seed + "-base", LayerSize, docker: false);
        var result = new List<(string, string, TestImage)>();
        for (var i = 0; i < 3; i++)
        {
            var image = TestImages.Image([shared, TestImages.RandomLayer($"{seed}-{i}", LayerSize, docker: false)], docker: false, label: $"{seed}-{i}");
            await TestImages.PushImageAsync(http, env.Host, $"test/{name}-{i}", image, "1");
            result.Add(($"test/{name}-{i}", $"test/{name}-{i}:1", image));
        }

        return result;
    }
}
