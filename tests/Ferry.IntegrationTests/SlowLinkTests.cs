using System.Diagnostics;
using System.Globalization;
using System.Net;
using Ferry.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Ferry.IntegrationTests;

/// <summary>
/// The field, #24: transfers across a real link to another host (a network namespace behind a veth shaped by
/// <c>tc tbf</c>) — slow, cut, and capped — against the real registry, with a layer large enough that it takes longer
/// than the idle timeout to upload.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SlowLinkTests(RealComponentsFixture env, ITestOutputHelper output)
{
    private const int BigLayerBytes = 100 * 1024 * 1024;

    [Fact]
    public async Task LoadAndCopy_OfA100MBLayer_AcrossA10MbitLink_SucceedWithDefaults()
    {
        await using var lab = await NetworkLab.CreateAsync();
        await lab.ShapeAsync(10);
        await using var far = await RegistryProcess.StartAsync(new RegistryConfig { Lab = lab });
        using var dir = new TempDirectory("ferry-slowlink");
        var (reference, digest, blobBytes) = await BigImageAsync("field/big", "slow");
        var archive = dir.File("big.tar");
        (await FerryCli.RunAsync("save", "-o", archive, reference)).EnsureSuccess("ferry save");

        // At 10 Mbit/s the layer takes ~85 s: longer than the 60 s idle timeout, which must measure silence, not duration.
        var clock = Stopwatch.StartNew();
        var load = await FerryCli.RunSlowAsync("load", archive, "--to", $"{far.Host}/loaded", "--plain-http");
        Assert.True(load.ExitCode == 0, load.StandardError);
        output.WriteLine($"load across 10 Mbit/s: {clock.Elapsed.TotalSeconds:F1} s for {blobBytes} blob bytes ({blobBytes / clock.Elapsed.TotalSeconds / 1e6:F2} MB/s)");
        Assert.Equal(digest, await RegistryManifests.DigestAsync(far.Host, "loaded/field/big", "1"));

        clock.Restart();
        var copy = await FerryCli.RunSlowAsync("copy", reference, "--to", $"{far.Host}/copied", "--plain-http");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        output.WriteLine($"copy across 10 Mbit/s: {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal(digest, await RegistryManifests.DigestAsync(far.Host, "copied/field/big", "1"));
    }

    [Fact]
    public async Task Load_AcrossALinkCutEvery20Seconds_ResumesTheUploadSession_AndSendsAtMost115Percent()
    {
        await using var lab = await NetworkLab.CreateAsync();
        await lab.ShapeAsync(10);
        using var dir = new TempDirectory("ferry-cutlink");
        var (reference, digest, blobBytes) = await BigImageAsync("field/cut", "cut");
        var archive = dir.File("cut.tar");
        (await FerryCli.RunAsync("save", "-o", archive, reference)).EnsureSuccess("ferry save");

        // Ferry on the far host; the link to the registry drops every 20 s; the registry keeps what a cut session got.
        await using var sessions = await ResumableUploadRegistry.StartAsync(env.Host);
        await using var link = new LinkProxy(lab.NearAddress, new IPEndPoint(IPAddress.Loopback, sessions.Port));
        link.CutEvery(TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();
        var load = await FerryCli.RunInAsync(lab, "load", archive, "--to", $"{link.Host}/resumed", "--plain-http");
        var elapsed = clock.Elapsed;
        Assert.True(load.ExitCode == 0, $"{load.StandardError}\n(cuts: {link.Cuts})");
        var ratio = sessions.ReceivedBytes / (double)blobBytes;
        output.WriteLine($"cut every 20 s: {elapsed.TotalSeconds:F1} s, {link.Cuts} cuts, {sessions.StatusRequests} status requests, {sessions.Sessions} sessions open; received {sessions.ReceivedBytes} of {blobBytes} blob bytes = {ratio:F3}x");
        Assert.True(link.Cuts >= 3, $"only {link.Cuts} cuts happened");
        Assert.True(ratio <= 1.15, $"the registry received {ratio:F3}x the blob bytes");
        Assert.True(sessions.StatusRequests >= 3, "the upload never asked its session where it stood");
        Assert.Equal(digest, await RegistryManifests.DigestAsync(env.Host, "resumed/field/cut", "1"));
    }

    [Fact]
    public async Task Copy_AcrossALinkCutEvery20Seconds_ResumesTheUploadSession()
    {
        // The source is near (loopback); the target is behind a 10 Mbit/s link (paced by the proxy) that drops every 20 s.
        var (reference, digest, blobBytes) = await BigImageAsync("field/copycut", "copycut", 60 * 1024 * 1024);
        await using var sessions = await ResumableUploadRegistry.StartAsync(env.Host);
        await using var link = new LinkProxy(IPAddress.Loopback, new IPEndPoint(IPAddress.Loopback, sessions.Port)) { BytesPerSecondToServer = 1_250_000 };
        link.CutEvery(TimeSpan.FromSeconds(20));
        var clock = Stopwatch.StartNew();
        var copy = await FerryCli.RunSlowAsync("copy", reference, "--to", $"{link.Host}/copied");
        Assert.True(copy.ExitCode == 0, $"{copy.StandardError}\n(cuts: {link.Cuts})");
        var ratio = sessions.ReceivedBytes / (double)blobBytes;
        output.WriteLine($"copy, cut every 20 s: {clock.Elapsed.TotalSeconds:F1} s, {link.Cuts} cuts; received {ratio:F3}x the blob bytes");
        Assert.True(link.Cuts >= 2, $"only {link.Cuts} cuts happened");
        Assert.True(ratio <= 1.15, $"the registry received {ratio:F3}x the blob bytes");
        Assert.Equal(digest, await RegistryManifests.DigestAsync(env.Host, "copied/field/copycut", "1"));
    }

    [Fact]
    public async Task Load_WhenTheRegistryDropsACutSession_StartsANewOne_NeverSendsToTheDeadUrl()
    {
        // Registry 2.8 invalidates an upload session whose body was cut; Ferry must ask, learn that, and start over.
        using var dir = new TempDirectory("ferry-cutonce");
        var (reference, digest, _) = await BigImageAsync("field/once", "once", 12 * 1024 * 1024);
        var archive = dir.File("once.tar");
        (await FerryCli.RunAsync("save", "-o", archive, reference)).EnsureSuccess("ferry save");
        await using var target = await RegistryProcess.StartAsync();
        await using var link = new LinkProxy(IPAddress.Loopback, IPEndPoint.Parse(target.Host));
        await using var counting = await CountingProxy.StartAsync(link.Host);
        var load = FerryCli.RunAsync("load", archive, "--to", $"{counting.Host}/once", "--limit-rate", "4MiB");
        while (link.BytesToServer < 4 * 1024 * 1024 && !load.IsCompleted)
        {
            await Task.Delay(50);
        }

        link.CutNow();
        var result = await load;
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal(digest, await RegistryManifests.DigestAsync(target.Host, "once/field/once", "1"));

        // The session that was cut is asked once (GET) and never written to again; a new POST opens a fresh one.
        var requests = counting.Requests.ToList();
        var status = requests.FindIndex(r => r.Method == "GET" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal));
        Assert.True(status >= 0, string.Join("\n", requests));
        var dead = requests[status].Path;
        Assert.DoesNotContain(requests.Skip(status + 1), r => r.Path == dead);
        Assert.Contains(requests.Skip(status + 1), r => r.Method == "POST" && r.Path.EndsWith("/blobs/uploads/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LimitRate_HoldsUploadsAndDownloadsWithinTenPercent()
    {
        using var dir = new TempDirectory("ferry-ratecap");
        var (reference, _, _) = await BigImageAsync("field/rate", "rate", 20 * 1024 * 1024);
        await using var source = new LinkProxy(IPAddress.Loopback, IPEndPoint.Parse(env.Host));
        var archive = dir.File("rate.tar");
        var save = await FerryCli.RunAsync("save", "-o", archive, "--limit-rate", "2MiB", reference.Replace(env.Host, source.Host, StringComparison.Ordinal));
        Assert.True(save.ExitCode == 0, save.StandardError);
        var down = source.BytesToClient / source.ToClientSpan.TotalSeconds / (2 * 1024 * 1024);

        await using var target = await RegistryProcess.StartAsync();
        await using var link = new LinkProxy(IPAddress.Loopback, IPEndPoint.Parse(target.Host));
        var load = await FerryCli.RunAsync("load", archive, "--to", $"{link.Host}/rate", "--limit-rate", "2MiB");
        Assert.True(load.ExitCode == 0, load.StandardError);
        var up = link.BytesToServer / link.ToServerSpan.TotalSeconds / (2 * 1024 * 1024);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"--limit-rate 2MiB: download {down:F3}x, upload {up:F3}x of the cap"));
        Assert.InRange(down, 0.9, 1.1);
        Assert.InRange(up, 0.9, 1.1);
    }

    /// <summary>An image with one large random layer, pushed to the fixture registry; its reference, digest and blob bytes.</summary>
    private async Task<(string Reference, string Digest, long BlobBytes)> BigImageAsync(string repository, string seed, int size = BigLayerBytes)
    {
        var layer = TestImages.RandomLayer(seed, size, docker: false);
        var image = TestImages.Image([layer], docker: false, label: seed);
        using var http = new HttpClient { Timeout = TimeSpan.FromMinutes(5) };
        await TestImages.PushImageAsync(http, env.Host, repository, image, "1");
        return ($"{env.Host}/{repository}:1", image.Manifest.Digest, layer.Content.Length + image.Config.Content.Length);
    }
}
