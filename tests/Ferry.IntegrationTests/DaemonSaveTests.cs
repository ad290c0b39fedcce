using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// <c>ferry save --daemon</c> against the real dockerd on its unix socket: images imported and pulled in the
/// test, saved by name, by ID and in list mode, removed, loaded back with docker load and run; and exports
/// spoiled by a proxy (an error appended inside the 200 stream, a stream cut mid-layer) failing cleanly.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class DaemonSaveTests(RealComponentsFixture env)
{
    [Fact]
    public async Task SaveFromDaemon_ByNameAndById_LoadsBackAndRuns()
    {
        using var dir = new TempDirectory();
        var rootfs = dir.File("rootfs.tar.gz");
        await File.WriteAllBytesAsync(rootfs, TestImages.BusyboxLayer(docker: true).Content);
        (await env.Docker.DockerAsync("import", rootfs, "imported/app:dev")).EnsureSuccess("docker import");
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        var id = (await env.Docker.DockerAsync("image", "inspect", "--format", "{{.Id}}", $"{env.Host}/test/app:1")).EnsureSuccess("docker inspect").StandardOutput.Trim();

        var archive = dir.File("daemon.tar");
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-o", archive, "imported/app:dev", id[7..19]);
        Assert.True(save.ExitCode == 0, save.StandardError);
        (await FerryCli.RunAsync("verify", archive)).EnsureSuccess("ferry verify");

        (await env.Docker.DockerAsync("rmi", "-f", "imported/app:dev", $"{env.Host}/test/app:1")).EnsureSuccess("docker rmi");
        var load = (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load");
        Assert.Contains("imported/app:dev", load.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{env.Host}/test/app:1", load.StandardOutput, StringComparison.Ordinal); // the ID was saved under its tag
        Assert.Equal("imported ok", await env.Docker.RunAsync("imported/app:dev", "echo", "imported ok"));
        Assert.Equal("hello from app", await env.Docker.RunAsync($"{env.Host}/test/app:1", "cat", "/app.txt"));
    }

    [Fact]
    public async Task SecondDaemonSave_IsUpToDateByImageId_UntilTheImageChanges()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/base:1")).EnsureSuccess("docker pull");
        (await env.Docker.DockerAsync("tag", $"{env.Host}/test/base:1", "idem/app:1")).EnsureSuccess("docker tag");
        var archive = dir.File("idem.tar");
        (await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-o", archive, "idem/app:1")).EnsureSuccess("first save");
        var written = File.GetLastWriteTimeUtc(archive);

        var second = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-o", archive, "idem/app:1");
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Contains("is up to date", second.StandardError, StringComparison.Ordinal);
        Assert.Equal(written, File.GetLastWriteTimeUtc(archive));

        // The tag now names another image: the archive is rewritten.
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull app");
        (await env.Docker.DockerAsync("tag", $"{env.Host}/test/app:1", "idem/app:1")).EnsureSuccess("docker tag app");
        var third = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-o", archive, "idem/app:1");
        Assert.True(third.ExitCode == 0, third.StandardError);
        Assert.DoesNotContain("up to date", third.StandardError, StringComparison.Ordinal);
        Assert.True(File.GetLastWriteTimeUtc(archive) > written);
    }

    [Fact]
    public async Task ListWithAMissingImage_SavesTheRestAndListsTheMissingOne()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/base:1")).EnsureSuccess("docker pull");
        var list = dir.File("images.txt");
        await File.WriteAllLinesAsync(list, [$"{env.Host}/test/base:1", "does-not-exist:42"]);
        var failed = dir.File("failed.txt");
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-f", list, "--failed", failed, "-o", dir.File("bulk.tar"));
        Assert.Equal(2, save.ExitCode);
        Assert.Equal(["does-not-exist:42"], await File.ReadAllLinesAsync(failed));
        Assert.Contains("no such image in the Docker daemon", save.StandardError, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("bulk.tar")));
    }

    [Fact]
    public async Task MissingImage_OneClearLineAndNoArchive()
    {
        using var dir = new TempDirectory();
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-o", dir.File("x.tar"), "nothing/here:1");
        Assert.Equal(1, save.ExitCode);
        var line = Assert.Single(save.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("nothing/here:1: no such image in the Docker daemon", line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task CompressLayersGzip_StoresGzipLayersThatDockerLoadsAndRuns()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        var archive = dir.File("gz-layers.tar");
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "--compress-layers", "gzip", "-o", archive, $"{env.Host}/test/app:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        (await FerryCli.RunAsync("verify", archive)).EnsureSuccess("ferry verify");
        var inspect = await FerryCli.RunAsync("inspect", "--json", archive);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);

        var manifestJson = RealComponentsFixture.ReadJsonEntry(archive, "manifest.json");
        var layerPath = (string)manifestJson[0]!["Layers"]![0]!;
        using (var tar = File.OpenRead(archive))
        using (var reader = new System.Formats.Tar.TarReader(tar))
        {
            while (reader.GetNextEntry() is { } entry)
            {
                if (entry.Name == layerPath)
                {
                    var magic = new byte[2];
                    entry.DataStream!.ReadExactly(magic);
                    Assert.Equal(new byte[] { 0x1f, 0x8b }, magic);
                }
            }
        }

        (await env.Docker.DockerAsync("rmi", "-f", $"{env.Host}/test/app:1")).EnsureSuccess("docker rmi");
        (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load");
        Assert.Equal("hello from app", await env.Docker.RunAsync($"{env.Host}/test/app:1", "cat", "/app.txt"));
    }

    [Fact]
    public async Task CompressedOutput_GoesThroughTheRepackingPathAndDockerLoadsIt()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/oci:1")).EnsureSuccess("docker pull");
        var archive = dir.File("daemon.tar.gz");
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.Host, "-c", "gzip", "-o", archive, $"{env.Host}/test/oci:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        (await FerryCli.RunAsync("verify", archive)).EnsureSuccess("ferry verify");
        (await env.Docker.DockerAsync("rmi", "-f", $"{env.Host}/test/oci:1")).EnsureSuccess("docker rmi");
        (await env.Docker.DockerAsync("load", "-i", archive)).EnsureSuccess("docker load");
        Assert.Equal("hello from oci", await env.Docker.RunAsync($"{env.Host}/test/oci:1", "cat", "/oci.txt"));
    }

    [Theory]
    [InlineData(ExportFault.AppendError, "none", "reported an error in the middle of the export: injected export failure", false)]
    [InlineData(ExportFault.CutMidway, "none", "the Docker daemon's export stream broke off", false)]
    [InlineData(ExportFault.AppendError, "gzip", "reported an error in the middle of the export: injected export failure", false)]
    [InlineData(ExportFault.CutMidway, "gzip", "the Docker daemon", false)]
    [InlineData(ExportFault.AppendError, "none", "reported an error in the middle of the export: injected export failure", true)]
    [InlineData(ExportFault.CutMidway, "none", "the Docker daemon's export stream broke off", true)]
    [InlineData(ExportFault.CutMidway, "gzip", "the Docker daemon", true)]
    public async Task SpoiledExportStream_FailsCleanlyWithNothingLeft(ExportFault fault, string compression, string expected, bool unixSocket)
    {
        using var dir = new TempDirectory();
        using var sockets = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        await using var proxy = await FakeDaemonProxy.StartAsync(env.Docker.SocketPath, fault, unixSocket ? sockets.File("daemon.sock") : null);
        var before = Directory.GetDirectories(Path.GetTempPath(), "ferry-daemon-*").Length;
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", proxy.Host, "-c", compression, "-o", dir.File("x.tar"), $"{env.Host}/test/app:1");
        Assert.Equal(1, save.ExitCode);
        var line = Assert.Single(save.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
        Assert.True(Directory.GetDirectories(Path.GetTempPath(), "ferry-daemon-*").Length <= before, "the temporary export was left behind");
    }

    /// <summary>
    /// The unix-socket export is received with blocking reads on a thread of its own: cancelling must still end a save
    /// whose daemon stopped sending, promptly, with no archive and no temporary file left.
    /// </summary>
    [Fact]
    public async Task CancelledWhileTheDaemonStalls_EndsPromptlyWithNothingLeft()
    {
        using var dir = new TempDirectory();
        using var sockets = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        await using var proxy = await FakeDaemonProxy.StartAsync(env.Docker.SocketPath, ExportFault.StallMidway, sockets.File("daemon.sock"));
        var output = dir.File("x.tar");
        using var cancel = new CancellationTokenSource();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var request = new Ferry.Saving.SaveRequest { Images = [$"{env.Host}/test/app:1"], Output = output, Daemon = new Ferry.Daemon.DockerEndpoint(proxy.Host, "the test") };
        var save = Ferry.Images.SaveAsync(request, cancellationToken: cancel.Token);

        // Let the export start and the stall begin (the save cannot finish on its own), then cancel.
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.False(save.IsCompleted, "the save finished although the daemon stalled");
        clock.Restart();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => save);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"cancelling took {clock.Elapsed}");
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
