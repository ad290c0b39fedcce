using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// `ferry inspect` of a registry image (issue #15): platforms, digests, sizes and config read from the real registry
/// without downloading a layer, agreeing with skopeo; and of an archive: each image's own and shared bytes.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class InspectTests(RealComponentsFixture env)
{
    [Fact]
    public async Task InspectRegistryImage_ShowsEveryPlatformAndItsConfig_WithoutDownloadingLayers()
    {
        using var http = new HttpClient();
        var layer = TestImages.RandomLayer("inspect-remote", 300_000, docker: false);
        var amd64 = TestImages.Image([layer], docker: false, label: "evil\u001b[31m");
        var arm64 = TestImages.Image([layer], docker: false, architecture: "arm64", variant: "v8", label: "arm");
        await TestImages.PushImageAsync(http, env.Host, "inspect/remote", amd64, null);
        await TestImages.PushImageAsync(http, env.Host, "inspect/remote", arm64, null);
        var index = TestImages.Index([amd64, arm64], docker: false);
        await TestImages.PushManifestAsync(http, env.Host, "inspect/remote", index, "1");

        await using var proxy = await CountingProxy.StartAsync(env.Host);
        var run = await FerryCli.RunAsync("inspect", "--json", $"{proxy.Host}/inspect/remote:1");
        Assert.True(run.ExitCode == 0, run.StandardError);
        var json = JsonNode.Parse(run.StandardOutput)!;
        Assert.Equal(index.Digest, (string)json["digest"]!);
        var platforms = json["platforms"]!.AsArray();
        Assert.Equal(["linux/amd64", "linux/arm64/v8"], platforms.Select(p => (string)p!["platform"]!));
        Assert.Equal(amd64.Manifest.Digest, (string)platforms[0]!["digest"]!);
        Assert.Equal(layer.Content.Length, (long)platforms[0]!["layerBytes"]!);
        Assert.Contains("PATH=/bin", platforms[0]!["env"]!.AsArray().Select(e => (string)e!));
        Assert.Equal("arm", (string)platforms[1]!["labels"]!["test"]!);
        Assert.DoesNotContain(proxy.Requests, r => r.Path.Contains(layer.Digest, StringComparison.Ordinal));
        Assert.NotEmpty(proxy.Requests);

        // The same top digest skopeo reports.
        var skopeo = (await ProcessRunner.RunAsync("skopeo", ["inspect", "--tls-verify=false", "--raw", $"docker://{env.Host}/inspect/remote:1"])).EnsureSuccess("skopeo inspect");
        Assert.Equal(index.Digest, "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(skopeo.StandardOutput.TrimEnd('\n')))));

        // Text: one platform chosen; registry-supplied text cannot drive the terminal.
        var text = await FerryCli.RunAsync("inspect", "--platform", "linux/amd64", $"{env.Host}/inspect/remote:1");
        Assert.True(text.ExitCode == 0, text.StandardError);
        Assert.Contains($"linux/amd64  {amd64.Manifest.Digest}", text.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("linux/arm64", text.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("Env:", text.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', text.StandardOutput);

        var missing = await FerryCli.RunAsync("inspect", $"{env.Host}/inspect/nothere:1");
        Assert.Equal(1, missing.ExitCode);
        Assert.Single(missing.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task InspectMistypedArchiveName_SaysItDoesNotExist_InsteadOfAskingARegistry()
    {
        using var dir = new TempDirectory();
        var run = await FerryCli.RunAsync("inspect", dir.File("bundel.tar"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("does not exist", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InspectArchive_SaysWhichBytesAreAnImagesOwnAndWhichAreShared()
    {
        using var http = new HttpClient();
        var shared = TestImages.RandomLayer("inspect-shared", 400_000, docker: false);
        var one = TestImages.Image([shared, TestImages.RandomLayer("inspect-one", 100_000, docker: false)], docker: false, label: "one");
        var two = TestImages.Image([shared, TestImages.RandomLayer("inspect-two", 200_000, docker: false)], docker: false, label: "two");
        await TestImages.PushImageAsync(http, env.Host, "inspect/one", one, "1");
        await TestImages.PushImageAsync(http, env.Host, "inspect/two", two, "1");
        using var dir = new TempDirectory();
        var archive = dir.File("b.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/inspect/one:1", $"{env.Host}/inspect/two:1")).EnsureSuccess("ferry save");
        var json = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", archive)).EnsureSuccess("inspect").StandardOutput)!;
        var images = json["images"]!.AsArray();
        var sharedBytes = shared.Content.Length;
        Assert.All(images, i => Assert.Equal(sharedBytes, (long)i!["sharedBytes"]!));
        Assert.Equal(one.Config.Content.Length + one.Manifest.Content.Length + one.Layers[1].Content.Length, (long)images[0]!["ownBytes"]!);
        Assert.Equal((long)json["uniqueBytes"]!, images.Sum(i => (long)i!["ownBytes"]!) + sharedBytes);

        // On a terminal: a chart of where the bytes go.
        await using var terminal = await TmuxTerminal.StartAsync($"dotnet {FerryCli.AssemblyPath} inspect {archive}", 100, 30);
        var screen = (await terminal.RecordUntilExitAsync(TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(1)))[^1];
        Assert.Contains(screen, l => l.StartsWith("Where the ", StringComparison.Ordinal));
        Assert.Contains(screen, l => l.Contains("shared by several images", StringComparison.Ordinal));
    }
}
