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

        // The delta is the full archive minus the base layer (and its tar padding), plus a small ferry-partial.json.
        var full = dir.File("full.tar");
        (await FerryCli.RunAsync("save", "-o", full, App)).EnsureSuccess("ferry save full");
        var baseLayerSize = env.Images["test/base:1"].Layers[0].Content.Length;
        Assert.InRange(new FileInfo(full).Length - new FileInfo(delta).Length, baseLayerSize - 4096, baseLayerSize + 1024);

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
        Assert.Equal("hello from app", await env.Docker.RunAsync(App, "cat", "/app.txt"));
    }

    [Fact]
    public async Task FerryLoadDaemon_OfADelta_RunsWhereTheBaseIs()
    {
        using var dir = new TempDirectory();
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude", Base, App)).EnsureSuccess("ferry save delta");
        (await env.Docker.DockerAsync("pull", Base)).EnsureSuccess("docker pull base");
        await env.Docker.DockerAsync("rmi", "-f", App);
        var load = await FerryCli.RunAsync("load", delta, "--daemon", "--docker-host", env.Docker.Host);
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal("hello from app", await env.Docker.RunAsync(App, "cat", "/app.txt"));
    }

    [Fact]
    public async Task FerryLoadDaemon_OfADeltaWithoutItsBase_IsRefusedBeforeAnyWrite()
    {
        // A base layer no other test image has, so the daemon certainly lacks it.
        using var http = new HttpClient();
        var baseLayer = TestImages.RandomLayer("partial-base", 64 * 1024, docker: true);
        await TestImages.PushImageAsync(http, env.Host, "partial/base", TestImages.Image([baseLayer], docker: true, label: "pbase"), "1");
        await TestImages.PushImageAsync(http, env.Host, "partial/app", TestImages.Image([baseLayer, TestImages.RandomLayer("partial-app", 4096, docker: true)], docker: true, label: "papp"), "1");
        using var dir = new TempDirectory();
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude", $"{env.Host}/partial/base:1", $"{env.Host}/partial/app:1")).EnsureSuccess("ferry save delta");

        var load = await FerryCli.RunAsync("load", delta, "--daemon", "--docker-host", env.Docker.Host);
        Assert.Equal(1, load.ExitCode);
        var line = Assert.Single(load.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("does not have; nothing was loaded", line, StringComparison.Ordinal);
        Assert.Contains(baseLayer.Digest[..19], line, StringComparison.Ordinal);
        var images = (await env.Docker.DockerAsync("images", "--format", "{{.Repository}}")).EnsureSuccess("docker images");
        Assert.DoesNotContain("partial/app", images.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DaemonSourcedDelta_PartialdockersavesOwnScenario()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", Base)).EnsureSuccess("docker pull base");
        (await env.Docker.DockerAsync("pull", App)).EnsureSuccess("docker pull app");
        var delta = dir.File("daemon-delta.tar");
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-o", delta, "--exclude", Base, App);
        Assert.True(save.ExitCode == 0, save.StandardError);
        var partial = RealComponentsFixture.ReadJsonEntry(delta, "ferry-partial.json");
        Assert.Single(partial["omitted"]!.AsArray());
        (await FerryCli.RunAsync("verify", delta)).EnsureSuccess("ferry verify");

        (await env.Docker.DockerAsync("rmi", "-f", App)).EnsureSuccess("docker rmi app");
        (await env.Docker.DockerAsync("load", "-i", delta)).EnsureSuccess("docker load");
        Assert.Equal("hello from app", await env.Docker.RunAsync(App, "cat", "/app.txt"));
    }

    [Fact]
    public async Task ExcludeArchiveWrittenByDockerSave_IsMatchedByDiffId()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", Base)).EnsureSuccess("docker pull base");
        var dockerSaved = dir.File("base-docker.tar");
        (await env.Docker.DockerAsync("save", "-o", dockerSaved, Base)).EnsureSuccess("docker save");

        // docker save holds the base layer uncompressed (another digest); the registry's is gzip: the diff_id matches.
        var delta = dir.File("delta.tar");
        (await FerryCli.RunAsync("save", "-o", delta, "--exclude-archive", dockerSaved, App)).EnsureSuccess("ferry save");
        Assert.DoesNotContain($"blobs/sha256/{env.BaseLayerDigest[7..]}", RealComponentsFixture.EntryNames(delta));
    }
}
