using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

[Collection(RealComponentsCollection.Name)]
public sealed class SaveToDockerTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Save_DockerAndOciImages_DockerLoadsAndRunsThem()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("app.tar");
        var result = await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1", $"{env.Host}/test/multi:1");
        Assert.True(result.ExitCode == 0, result.StandardError);

        var load = (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load");
        Assert.Contains($"Loaded image: {env.Host}/test/app:1", load.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"Loaded image: {env.Host}/test/oci:1", load.StandardOutput, StringComparison.Ordinal);

        Assert.Equal("hello from app", await env.Docker.RunAsync($"{env.Host}/test/app:1", "cat", "/app.txt"));
        Assert.Equal("hello from oci", await env.Docker.RunAsync($"{env.Host}/test/oci:1", "cat", "/oci.txt"));
        Assert.Equal("amd64", await env.Docker.RunAsync($"{env.Host}/test/multi:1", "cat", "/arch.txt"));
    }

    [Fact]
    public async Task Save_ByDigestOnly_DockerLoadsAnUntaggedImage()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("bydigest.tar");
        var digest = env.Digests["test/base:1"];
        var result = await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/base@{digest}");
        Assert.True(result.ExitCode == 0, result.StandardError);

        var manifest = RealComponentsFixture.ReadJsonEntry(archive, "manifest.json");
        Assert.Empty(manifest[0]!["RepoTags"]!.AsArray());
        var load = (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load");
        Assert.Contains("Loaded image ID: sha256:" + env.Images["test/base:1"].Config.Digest[7..], load.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_ToStdout_DockerLoadsThePipedArchive()
    {
        using var dir = new TempDirectory();
        var piped = dir.File("piped.tar");
        var result = await FerryCli.RunWithStdoutAsync(piped, "save", "-o", "-", $"{env.Host}/test/base:1");
        Assert.True(result.ExitCode == 0, result.StandardError);

        var file = dir.File("file.tar");
        (await FerryCli.RunAsync("save", "-o", file, $"{env.Host}/test/base:1")).EnsureSuccess("ferry save");
        Assert.Equal(await File.ReadAllBytesAsync(file), await File.ReadAllBytesAsync(piped));
        (await env.Docker.DockerAsync("load", "-i", piped)).EnsureSuccess("docker load");
    }
}

[Collection(RealComponentsCollection.Name)]
public sealed class SaveTerminalTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Save_StdoutIsATerminalAndNoOutput_WritesRepositoryTagTarInTheCurrentDirectory()
    {
        // util-linux 'script' gives the process a pseudo-terminal as stdout.
        var script = Components.Require("script", "bsdutils");
        using var dir = new TempDirectory();
        var command = $"cd '{dir.Path}' && dotnet '{FerryCli.AssemblyPath}' save {env.Host}/test/base:1";
        var result = await ProcessRunner.RunAsync(script, ["-qec", command, "/dev/null"]);
        Assert.True(result.ExitCode == 0, result.StandardOutput + result.StandardError);
        Assert.True(File.Exists(dir.File("test-base-1.tar")), string.Join(", ", Directory.GetFileSystemEntries(dir.Path)));
    }
}
