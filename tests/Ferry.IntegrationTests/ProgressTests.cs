using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Issue #15's "progress that tells the truth", through the real CLI: `--progress json` on save, load and copy —
/// one object per line on stderr, byte events, a summary object and an error object — and plain progress lines
/// while bytes move (a throttled registry).
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ProgressTests(RealComponentsFixture env)
{
    [Fact]
    public async Task ProgressJson_OnSaveLoadAndCopy_HasByteEventsASummaryAndErrors()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("b.tar");
        var save = await FerryCli.RunAsync("save", "--progress", "json", "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        var saved = Objects(save.StandardError);
        Assert.Contains(saved, o => (string)o["event"]! == "bytes");
        var summary = Assert.Single(saved, o => (string)o["event"]! == "summary");
        Assert.Equal(2, (int)summary["images"]!);
        Assert.Equal(new FileInfo(bundle).Length, (long)summary["archiveBytes"]!);

        await using var target = await RegistryProcess.StartAsync();
        var load = await FerryCli.RunAsync("load", "--progress", "json", bundle, "--to", target.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        var loaded = Objects(load.StandardError);
        Assert.Equal(2, loaded.Count(o => (string)o["event"]! == "image-loaded"));
        Assert.Contains(loaded, o => (string)o["event"]! == "bytes");
        Assert.Equal(2, (int)Assert.Single(loaded, o => (string)o["event"]! == "summary")["images"]!);

        var copy = await FerryCli.RunAsync("copy", "--progress", "json", $"{env.Host}/test/app:1", "--to", $"{target.Host}/copied");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Single(Objects(copy.StandardError), o => (string)o["event"]! == "image-copied");

        var failed = await FerryCli.RunAsync("save", "--progress", "json", "-o", dir.File("x.tar"), $"{env.Host}/test/nothere:1");
        Assert.Equal(1, failed.ExitCode);
        var error = Assert.Single(Objects(failed.StandardError), o => (string)o["event"]! == "error");
        Assert.Contains("not found", (string)error["message"]!, StringComparison.Ordinal);
        Assert.All(failed.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith("{", line, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PlainProgress_PrintsALineWhileBytesMove()
    {
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.RandomLayer("plain-progress", 6_000_000, docker: true)], docker: true, label: "plain-progress");
        await TestImages.PushImageAsync(http, env.Host, "progress/plain", image, "1");
        await using var proxy = new ThrottlingProxy(env.Registry.Port, 16 * 1024, TimeSpan.FromMilliseconds(20));
        using var dir = new TempDirectory();
        var save = await FerryCli.RunAsync("save", "-o", dir.File("p.tar"), $"{proxy.Host}/progress/plain:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Matches(@"(?m)^  [0-9.]+ (KiB|MiB) of [0-9.]+ MiB \([0-9]+%\), [0-9.]+ (KiB|MiB)/s, ETA [0-9]+ s; 0/1 images done$", save.StandardError);
        Assert.DoesNotContain(" MB", save.StandardError, StringComparison.Ordinal);
    }

    private static List<JsonNode> Objects(string stderr) =>
        stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!).ToList();
}
