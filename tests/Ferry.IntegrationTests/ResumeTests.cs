using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Resume after a crash (#16): a save killed with SIGKILL halfway through continues when the same command runs
/// again — against the real registry, behind a throttling proxy that counts the bytes each run downloads.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ResumeTests(RealComponentsFixture env)
{
    private const int LayerSize = 12 * 1024 * 1024;

    [Fact]
    public async Task KilledAtHalf_TheSameCommandResumes_DownloadsTheRest_AndWritesTheSameBytes()
    {
        var images = await PushCorpusAsync("resume");
        await using var proxy = new ThrottlingProxy(env.Registry.Port, 16 * 1024, TimeSpan.FromMilliseconds(10));
        var references = images.Select(i => $"{proxy.Host}/{i}").ToArray();
        using var dir = new TempDirectory();

        // An uninterrupted run: the reference bytes, the full download and the full time.
        var reference = dir.File("reference.tar");
        var clock = Stopwatch.StartNew();
        var full = await FerryCli.RunAsync(["save", "-o", reference, .. references]);
        var fullTime = clock.Elapsed;
        Assert.True(full.ExitCode == 0, full.StandardError);
        var total = proxy.BytesToClient;

        // The same save, killed with SIGKILL once half of it has come through the proxy, then the same command again.
        // Bytes and identity are asserted on every attempt. The wall ratio is a timing on a shared 2-core machine: a
        // second kill-and-resume is allowed when the first misses it (a rerun of 0.61x was seen once in CI while the
        // typical one is 0.53x); resume that is really slow misses it twice.
        var summaries = new List<string>();
        for (var attempt = 1; ; attempt++)
        {
            var archive = dir.File($"bundle{attempt}.tar");
            proxy.ResetCount();
            await RunAndKillAtAsync(proxy, total / 2, ["save", "-o", archive, .. references]);
            var atKill = proxy.BytesToClient;
            Assert.False(File.Exists(archive));
            Assert.True(File.Exists(dir.File($".bundle{attempt}.tar.ferry-resume")) && File.Exists(dir.File($".bundle{attempt}.tar.ferry-resume.journal")), string.Join(", ", Directory.GetFileSystemEntries(dir.Path)));

            proxy.ResetCount();
            clock.Restart();
            var resumed = await FerryCli.RunAsync(["save", "-o", archive, .. references]);
            var resumedTime = clock.Elapsed;
            Assert.True(resumed.ExitCode == 0, resumed.StandardError);
            var rerun = proxy.BytesToClient;
            var summary = string.Create(CultureInfo.InvariantCulture, $"full run {total} B in {fullTime.TotalSeconds:F2} s; killed at {atKill} B ({100.0 * atKill / total:F1} %); rerun downloaded {rerun} B ({100.0 * rerun / total:F1} %) in {resumedTime.TotalSeconds:F2} s ({resumedTime / fullTime:F2}×)");
            Console.WriteLine(summary);
            summaries.Add(summary);

            Assert.Contains("resuming:", resumed.StandardError, StringComparison.Ordinal);
            Assert.True(rerun <= total * 0.55, summary);
            Assert.Equal(await HashAsync(reference), await HashAsync(archive));
            Assert.Equal([archive, reference], Directory.GetFileSystemEntries(dir.Path).Order(StringComparer.Ordinal));
            File.Delete(archive);
            if (resumedTime <= fullTime * 0.6)
            {
                break;
            }

            Assert.True(attempt < 2, string.Join("\n", summaries));
        }
    }

    [Fact]
    public async Task AChangedPlan_ReusesTheBlobsThatStillMatch_AndTheArchiveIsWhole()
    {
        var images = await PushCorpusAsync("replan");
        await using var proxy = new ThrottlingProxy(env.Registry.Port, 16 * 1024, TimeSpan.FromMilliseconds(10));
        var references = images.Select(i => $"{proxy.Host}/{i}").ToArray();
        using var dir = new TempDirectory();
        var archive = dir.File("bundle.tar");

        await RunAndKillAtAsync(proxy, 3L * LayerSize, ["save", "-o", archive, .. references]);

        // The list changed: the last image is dropped, so every blob after it moves in the archive.
        proxy.ResetCount();
        var resumed = await FerryCli.RunAsync(["save", "-o", archive, .. references[..^1]]);
        Assert.True(resumed.ExitCode == 0, resumed.StandardError);
        Assert.Contains("resuming:", resumed.StandardError, StringComparison.Ordinal);
        var planned = (references.Length - 1 + 1) * (long)LayerSize; // one unique layer per image and the shared base
        Assert.True(proxy.BytesToClient < planned * 0.8, $"the rerun downloaded {proxy.BytesToClient} B of {planned}");

        var verify = await FerryCli.RunAsync("verify", archive);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        var fresh = dir.File("fresh.tar");
        Assert.Equal(0, (await FerryCli.RunAsync(["save", "--no-resume", "-o", fresh, .. references[..^1]])).ExitCode);
        Assert.Equal(await HashAsync(fresh), await HashAsync(archive));
    }

    [Fact]
    public async Task AStoppedSave_KeepsItsBlobsAndSaysSo_NoResumeStartsOverAndLeavesNothing()
    {
        var images = await PushCorpusAsync("stopped");
        await using var proxy = new ThrottlingProxy(env.Registry.Port, 16 * 1024, TimeSpan.FromMilliseconds(10));
        var references = images.Select(i => $"{proxy.Host}/{i}").ToArray();
        using var dir = new TempDirectory();
        var archive = dir.File("bundle.tar");

        var stderr = await RunAndKillAtAsync(proxy, 2L * LayerSize, ["save", "-o", archive, .. references], "INT");
        Assert.Contains("kept ", stderr, StringComparison.Ordinal);
        Assert.Contains(".bundle.tar.ferry-resume: the same command continues", stderr, StringComparison.Ordinal);

        var fresh = await FerryCli.RunAsync(["save", "--no-resume", "-o", archive, .. references]);
        Assert.True(fresh.ExitCode == 0, fresh.StandardError);
        Assert.DoesNotContain("resuming:", fresh.StandardError, StringComparison.Ordinal);
        Assert.Equal([archive], Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task TwoSavesOfTheSameOutputAtOnce_BothSucceed_TheSecondWithoutResume()
    {
        var images = await PushCorpusAsync("twice");
        await using var proxy = new ThrottlingProxy(env.Registry.Port, 64 * 1024, TimeSpan.FromMilliseconds(10));
        var references = images.Select(i => $"{proxy.Host}/{i}").ToArray();
        using var dir = new TempDirectory();
        var archive = dir.File("bundle.tar");

        var runs = await Task.WhenAll(
            FerryCli.RunAsync(["save", "-o", archive, .. references]),
            Task.Delay(300).ContinueWith(_ => FerryCli.RunAsync(["save", "-o", archive, .. references])).Unwrap());
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.StandardError));
        var verify = await FerryCli.RunAsync("verify", archive);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Equal([archive], Directory.GetFileSystemEntries(dir.Path));
    }

    /// <summary>Four images: a shared base layer and one unique layer each, all random (incompressible).</summary>
    private async Task<string[]> PushCorpusAsync(string name)
    {
        using var http = new HttpClient();
        var seed = name + Guid.NewGuid().ToString("N")[..8];
        var shared = TestImages.RandomLayer(seed + "-base", LayerSize, docker: false);
        var result = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            var image = TestImages.Image([shared, TestImages.RandomLayer($"{seed}-{i}", LayerSize, docker: false)], docker: false, label: $"{seed}-{i}");
            await TestImages.PushImageAsync(http, env.Host, $"test/{name}-{i}", image, "1");
            result.Add($"test/{name}-{i}:1");
        }

        return [.. result];
    }

    /// <summary>Runs ferry and sends it <paramref name="signal"/> once <paramref name="bytes"/> have come through the proxy; returns its stderr.</summary>
    private static async Task<string> RunAndKillAtAsync(ThrottlingProxy proxy, long bytes, string[] arguments, string signal = "KILL")
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        info.ArgumentList.Add(FerryCli.AssemblyPath);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (proxy.BytesToClient < bytes)
        {
            Assert.True(DateTime.UtcNow < deadline && !process.HasExited, "the save ended before it could be interrupted: " + (process.HasExited ? await stderr : string.Empty));
            await Task.Delay(10);
        }

        using (Process.Start("kill", ["-" + signal, process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        Assert.NotEqual(0, process.ExitCode);
        return await stderr;
    }

    private static async Task<string> HashAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexString(await SHA256.HashDataAsync(file));
    }
}
