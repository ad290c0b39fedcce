using System.Diagnostics;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Reliability case 39: Ctrl-C (SIGINT), SIGTERM or kill -9 in the middle of a save over an existing archive:
/// the earlier file is untouched; a graceful stop keeps only what the same command resumes from and exits 130 / 143; after
/// kill -9 at most the resume files are left (#16: the same command continues from them).
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SaveInterruptTests(RealComponentsFixture env)
{
    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    [InlineData("KILL", 137)]
    public async Task Case39_InterruptedMidSave_LeavesTheOldFileIntact(string signal, int expectedExitCode)
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
        using (Process.Start("kill", ["-" + signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        var errors = await stderr;
        Assert.True(expectedExitCode == process.ExitCode, $"exit code {process.ExitCode}, expected {expectedExitCode}; stderr:\n{errors}");
        Assert.Equal("previous", await File.ReadAllTextAsync(archive));
        // What may stay is the resume pair (what was written, for the same command to continue), never a half archive.
        var left = Directory.GetFileSystemEntries(dir.Path).Where(e => e != archive).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.True(left.Count == 0 || left.SequenceEqual([".keep.tar.ferry-resume", ".keep.tar.ferry-resume.journal"]), string.Join(", ", left) + "\n" + errors);
        if (signal != "KILL")
        {
            Assert.Contains("cancelled", errors, StringComparison.Ordinal);
            Assert.Equal(left.Count > 0, errors.Contains("kept ", StringComparison.Ordinal));
        }
    }
}
