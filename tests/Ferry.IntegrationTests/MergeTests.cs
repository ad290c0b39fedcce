using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// `ferry merge` (issue #16's merge): two bundles sharing a base become one archive with the base stored once, both
/// names and every digest kept — read by ferry verify, the real registry (load) and the real Docker Engine.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class MergeTests(RealComponentsFixture env)
{
    [Fact]
    public async Task TwoBundlesSharingABase_MergeIntoOneWithTheBaseOnce_AndLoadWithTheSameDigests()
    {
        using var http = new HttpClient();
        var shared = TestImages.RandomLayer("merge-base", 600_000, docker: true);
        var one = TestImages.Image([shared, TestImages.RandomLayer("merge-one", 100_000, docker: true)], docker: true, label: "merge-one");
        var two = TestImages.Image([shared, TestImages.RandomLayer("merge-two", 150_000, docker: true)], docker: true, label: "merge-two");
        await TestImages.PushImageAsync(http, env.Host, "merge/one", one, "1");
        await TestImages.PushImageAsync(http, env.Host, "merge/two", two, "1");
        using var dir = new TempDirectory();
        var a = dir.File("a.tar");
        var b = dir.File("b.tar");
        (await FerryCli.RunAsync("save", "-o", a, $"{env.Host}/merge/one:1")).EnsureSuccess("save a");
        (await FerryCli.RunAsync("save", "-o", b, $"{env.Host}/merge/two:1")).EnsureSuccess("save b");

        var merged = dir.File("ab.tar");
        var merge = await FerryCli.RunAsync("merge", a, b, "-o", merged);
        Assert.DoesNotContain("downloading", merge.StandardError, StringComparison.Ordinal); // a merge reads archives: it copies
        Assert.True(merge.ExitCode == 0, merge.StandardError);
        Assert.Contains("merged 2 image(s) from 2 archive(s)", merge.StandardError, StringComparison.Ordinal);

        var inspect = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", merged)).EnsureSuccess("inspect").StandardOutput)!;
        Assert.Equal(2, inspect["images"]!.AsArray().Count);
        var unique = (long)inspect["uniqueBytes"]!;
        Assert.Equal(shared.Content.Length, (long)inspect["images"]![0]!["sharedBytes"]!);
        Assert.True(new FileInfo(merged).Length <= unique * 1.01 + 64 * 1024, $"merged {new FileInfo(merged).Length} bytes for {unique} unique");
        (await FerryCli.RunAsync("verify", merged)).EnsureSuccess("ferry verify");

        // Merging again is up to date; the same inputs in the other order hold the same images.
        var again = await FerryCli.RunAsync("merge", a, b, "-o", merged);
        Assert.Contains("is up to date", again.StandardError, StringComparison.Ordinal);

        await using var target = await RegistryProcess.StartAsync();
        (await FerryCli.RunAsync("load", merged, "--to", target.Host)).EnsureSuccess("ferry load");
        Assert.Equal(one.Manifest.Digest, await RegistryManifests.DigestAsync(target.Host, "merge/one", "1"));
        Assert.Equal(two.Manifest.Digest, await RegistryManifests.DigestAsync(target.Host, "merge/two", "1"));

        (await env.Docker.DockerAsync("load", "-i", merged)).EnsureSuccess("docker load of the merged archive");
        (await env.Docker.DockerAsync("image", "inspect", $"{env.Host}/merge/two:1")).EnsureSuccess("docker has the second image");
    }

    [Fact]
    public async Task SameNameAtTwoDigests_IsRefusedByMergeLoadAndServeAlike_AndNothingIsWritten()
    {
        using var http = new HttpClient();
        var first = TestImages.Image([TestImages.RandomLayer("merge-conflict-1", 10_000, docker: true)], docker: true, label: "c1");
        var second = TestImages.Image([TestImages.RandomLayer("merge-conflict-2", 10_000, docker: true)], docker: true, label: "c2");
        using var dir = new TempDirectory();
        await TestImages.PushImageAsync(http, env.Host, "merge/conflict", first, "1");
        (await FerryCli.RunAsync("save", "-o", dir.File("a.tar"), $"{env.Host}/merge/conflict:1")).EnsureSuccess("save a");
        await TestImages.PushImageAsync(http, env.Host, "merge/conflict", second, "1");
        (await FerryCli.RunAsync("save", "-o", dir.File("b.tar"), $"{env.Host}/merge/conflict:1")).EnsureSuccess("save b");

        var merge = await FerryCli.RunAsync("merge", dir.File("a.tar"), dir.File("b.tar"), "-o", dir.File("ab.tar"));
        Assert.Equal(1, merge.ExitCode);
        var line = Assert.Single(merge.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("a merged archive holds one image per name", line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("ab.tar")));

        // The same rule, in the same words, for load and serve: one name at two digests is refused, naming both archives.
        var load = await FerryCli.RunAsync("load", dir.File("a.tar"), dir.File("b.tar"), "--to", $"{env.Host}/conflict-target");
        Assert.Equal(1, load.ExitCode);
        Assert.Contains($"{env.Host}/merge/conflict:1 is ", load.StandardError, StringComparison.Ordinal);
        Assert.Contains("load one of them", load.StandardError, StringComparison.Ordinal);
        var serve = await FerryCli.RunAsync("serve", dir.File("a.tar"), dir.File("b.tar"), "--listen", "127.0.0.1:0");
        Assert.Equal(1, serve.ExitCode);
        Assert.Contains("serve one of them", serve.StandardError, StringComparison.Ordinal);
        Assert.Contains(dir.File("b.tar"), serve.StandardError, StringComparison.Ordinal);

        // The same image in two archives is one image.
        var twice = await FerryCli.RunAsync("load", dir.File("b.tar"), dir.File("b.tar"), "--to", $"{env.Host}/conflict-target");
        Assert.True(twice.ExitCode == 0, twice.StandardError);
    }
}
