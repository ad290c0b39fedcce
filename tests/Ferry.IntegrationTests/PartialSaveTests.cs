using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Partial (delta) saves: an app image saved without the base layer it shares with an excluded image — checked by
/// verify and inspect, loaded into a registry that has the base (same digests) and refused by one that has not
/// (nothing pushed), and loaded by docker load on a daemon that holds the base.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class PartialSaveTests(RealComponentsFixture env)
{
    private string App => $"{env.Host}/test/app:1";

    private string Base => $"{env.Host}/test/base:1";

    [Fact]
    public async Task Delta_LeavesOutTheBaseLayer_VerifiesAndInspectsAsPartial()
    {
        using var dir = new TempDirectory();
        var delta = dir.File("delta.tar");
        var save = await FerryCli.RunAsync("save", "-o", delta, "--exclude", Base, App);
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Contains("partial archive: full size", save.StandardError, StringComparison.Ordinal);

        var entries = RealComponentsFixture.EntryNames(delta);
        Assert.DoesNotContain($"blobs/sha256/{env.BaseLayerDigest[7..]}", entries);
        Assert.Contains($"blobs/sha256/{env.Images["test/app:1"].Layers[^1].Digest[7..]}", entries);
        var partial = RealComponentsFixture.ReadJsonEntry(delta, "ferry-partial.json");
        var omitted = Assert.Single(partial["omitted"]!.AsArray());
        Assert.Equal(env.BaseLayerDigest, (string)omitted!["digest"]!);
        Assert.Equal(Base, (string)omitted["excludedBy"]!);

        var verify = await FerryCli.RunAsync("verify", delta);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Contains("partial: 1 layer(s) left out on purpose", verify.StandardError, StringComparison.Ordinal);
        var inspect = await FerryCli.RunAsync("inspect", "--json", delta);
        Assert.True((bool)JsonNode.Parse(inspect.StandardOutput)!["partial"]!);
    }

    [Fact]
    public async Task PartialdockersaveSpellingAndExcludeArchive_GiveTheSameDelta()
    {
        using var dir = new TempDirectory();
        var full = dir.File("base.tar");
        (await FerryCli.RunAsync("save", "-o", full, Base)).EnsureSuccess("ferry save base");
        (await FerryCli.RunAsync("save", "-o", dir.File("a.tar"), "-i", App, "-e", Base)).EnsureSuccess("ferry save -i -e");
        (await FerryCli.RunAsync("save", "-o", dir.File("b.tar"), "--exclude-archive", full, App)).EnsureSuccess("ferry save --exclude-archive");
        Assert.DoesNotContain($"blobs/sha256/{env.BaseLayerDigest[7..]}", RealComponentsFixture.EntryNames(dir.File("a.tar")));
        Assert.DoesNotContain($"blobs/sha256/{env.BaseLayerDigest[7..]}", RealComponentsFixture.EntryNames(dir.File("b.tar")));
    }

    [Fact]
    public async Task LoadIntoARegistryWithTheBase_KeepsTheDigests_AndAnEmptyOneIsRefusedBeforeAnyPush()
    {
        using var dir = new TempDirectory();
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude", Base, App)).EnsureSuccess("ferry save delta");

        await using var empty = await RegistryProcess.StartAsync();
        var refused = await FerryCli.RunAsync("load", delta, "--to", empty.Host);
        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("nothing was pushed", line, StringComparison.Ordinal);
        Assert.Contains(env.BaseLayerDigest[..19], line, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(empty.DataDirectory, "docker", "registry", "v2", "repositories")), "something was pushed");

        // A registry that got the base earlier (into another repository): --mount-from names it.
        var baseArchive = dir.File("base.tar");
        (await FerryCli.RunAsync("save", "-o", baseArchive, Base)).EnsureSuccess("ferry save base");
        (await FerryCli.RunAsync("load", baseArchive, "--to", empty.Host)).EnsureSuccess("ferry load base");
        var load = await FerryCli.RunAsync("load", delta, "--to", empty.Host, "--mount-from", "test/base");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains($"{empty.Host}/test/app:1\t{env.Digests["test/app:1"]}", load.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DockerLoadOfTheDelta_WorksOnADaemonThatHasTheBase()
    {
        using var dir = new TempDirectory();
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude", Base, App)).EnsureSuccess("ferry save delta");
        (await env.Docker.DockerAsync("pull", Base)).EnsureSuccess("docker pull base");
        await env.Docker.DockerAsync("rmi", "-f", App);
        (await env.Docker.DockerAsync("load", "-i", delta)).EnsureSuccess("docker load delta");
        var run = (await env.Docker.DockerAsync("run", "--rm", "--network", "none", App, "/bin/busybox", "cat", "/app.txt")).EnsureSuccess("docker run");
        Assert.Equal("hello from app", run.StandardOutput.Trim());
    }
}
