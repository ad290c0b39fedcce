using System.Text.RegularExpressions;
using Ferry.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Ferry.IntegrationTests;

/// <summary>
/// The field, #24: disks that fill. A small tmpfs stands for the USB disk: a save that cannot fit is refused before the
/// first byte with both sizes; a disk that fills mid-run says so, keeps resume data only when it can help, and the same
/// command finishes once there is room; a run that wrote nothing leaves nothing.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed partial class FullDiskTests(RealComponentsFixture env, ITestOutputHelper output)
{
    [Fact]
    public async Task Save_TooBigForTheDisk_IsRefusedBeforeWriting_WithBothSizes_AndLeavesNothing()
    {
        await using var disk = await SmallDisk.MountAsync(20);
        var reference = await PushAsync("disk/big", 30 * 1024 * 1024);
        var save = await FerryCli.RunAsync("save", "-o", disk.File("out.tar"), reference);
        output.WriteLine(save.StandardError);
        Assert.NotEqual(0, save.ExitCode);
        Assert.Matches(Needs(disk.Path), save.StandardError);
        Assert.Contains("nothing was written", save.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(disk.Path));

        // The disk still takes what fits: nothing of the refused run is in the way.
        (await FerryCli.RunAsync("save", "-o", disk.File("small.tar"), $"{env.Host}/test/base:1")).EnsureSuccess("ferry save of a small image");
        Assert.Equal(["small.tar"], Directory.EnumerateFileSystemEntries(disk.Path).Select(Path.GetFileName));

        // The same for a directory layout.
        var layout = await FerryCli.RunAsync("save", "--format", "dir", "-o", disk.File("layout"), reference);
        Assert.NotEqual(0, layout.ExitCode);
        Assert.Matches(Needs(disk.Path), layout.StandardError);
        Assert.Equal(["small.tar"], Directory.EnumerateFileSystemEntries(disk.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Save_WhenTheDiskFillsMidRun_SaysSo_KeepsResumeData_AndTheSameCommandFinishesOnceThereIsRoom()
    {
        await using var disk = await SmallDisk.MountAsync(40);
        var reference = await PushAsync("disk/fills", 24 * 1024 * 1024);
        string[] command = ["save", "-o", disk.File("out.tar"), "--limit-rate", "4MiB", reference];
        var save = FerryCli.RunAsync(command);
        var resume = disk.File(".out.tar.ferry-resume");
        while (!save.IsCompleted && (!File.Exists(resume) || new DriveInfo(disk.Path).TotalFreeSpace > 40L * 1024 * 1024 - 6 * 1024 * 1024))
        {
            await Task.Delay(50);
        }

        var filler = disk.Fill(leaveBytes: 1024 * 1024);
        var failed = await save;
        output.WriteLine(failed.StandardError);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Contains($"the disk filled while writing {disk.File("out.tar")}", failed.StandardError, StringComparison.Ordinal);
        Assert.Matches(Needs(disk.Path), failed.StandardError);
        Assert.Contains("kept ", failed.StandardError, StringComparison.Ordinal);
        Assert.Contains("--no-resume starts over and removes it", failed.StandardError, StringComparison.Ordinal);
        Assert.True(File.Exists(resume));

        File.Delete(filler);
        var again = await FerryCli.RunAsync(command);
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Contains("resuming:", again.StandardError, StringComparison.Ordinal);
        Assert.Equal(["out.tar"], Directory.EnumerateFileSystemEntries(disk.Path).Select(Path.GetFileName));
        (await FerryCli.RunAsync("verify", disk.File("out.tar"))).EnsureSuccess("ferry verify");
    }

    [Fact]
    public async Task Load_OfACompressedBundle_WithAMissingTmpdir_NamesTmpdir()
    {
        using var dir = new TempDirectory("ferry-tmpdir");
        var bundle = dir.File("b.tar.gz");
        (await FerryCli.RunAsync("save", "-c", "gzip", "-o", bundle, $"{env.Host}/test/base:1")).EnsureSuccess("ferry save");
        var environment = new Dictionary<string, string> { ["TMPDIR"] = dir.File("no-such-dir") };
        var inspect = await FerryCli.RunWithEnvironmentAsync(environment, "inspect", bundle);
        Assert.NotEqual(0, inspect.ExitCode);
        Assert.Contains($"TMPDIR ({dir.File("no-such-dir")})", inspect.StandardError, StringComparison.Ordinal);
        Assert.Single(inspect.StandardError.Trim().Split('\n'));
    }

    private static Regex Needs(string mount) => new($@"needs [0-9.]+ MiB on {Regex.Escape(mount)}, [0-9.]+ (MiB|KiB|B) free");

    private async Task<string> PushAsync(string repository, int size)
    {
        var layer = TestImages.RandomLayer(repository, size, docker: false);
        var image = TestImages.Image([layer], docker: false, label: repository);
        using var http = new HttpClient();
        await TestImages.PushImageAsync(http, env.Host, repository, image, "1");
        return $"{env.Host}/{repository}:1";
    }
}
