using System.Diagnostics;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>Ctrl-C (SIGINT) in the middle of a save: exit 130, no partial archive, earlier file untouched.</summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SaveInterruptTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Save_InterruptedBySigint_LeavesTheOldFileAndNoTemporary()
    {
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.RandomLayer("slow", 4_000_000, docker: true)], docker: true, label: "slow");
        await TestImages.PushImageAsync(http, env.Host, "test/slow", image, "1");
        await using var proxy = new ThrottlingProxy(env.Registry.Port, 16 * 1024, TimeSpan.FromMilliseconds(20));

        using var dir = new TempDirectory();
        var archive = dir.File("keep.tar");
        await File.WriteAllTextAsync(archive, "previous");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { FerryCli.AssemblyPath, "save", "-o", archive, $"{proxy.Host}/test/slow:1" })
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!Directory.EnumerateFiles(dir.Path, ".keep.tar.ferry-*").Any())
        {
            Assert.True(DateTime.UtcNow < deadline && !process.HasExited, "the save never started writing");
            await Task.Delay(50);
        }

        await Task.Delay(300);
        Assert.False(process.HasExited, "the throttled save finished before it could be interrupted");
        using (Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        Assert.Equal(130, process.ExitCode);
        var errors = await stderr;
        Assert.True(Directory.GetFileSystemEntries(dir.Path).Length == 1, string.Join(", ", Directory.GetFileSystemEntries(dir.Path)) + "\n" + errors);
        Assert.Contains("cancelled", errors, StringComparison.Ordinal);
        Assert.Equal("previous", await File.ReadAllTextAsync(archive));
        Assert.Equal([archive], Directory.GetFileSystemEntries(dir.Path));
    }
}
