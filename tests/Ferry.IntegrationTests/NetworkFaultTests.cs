using System.Diagnostics;
using Ferry.Inspecting;
using Ferry.IntegrationTests.Infrastructure;
using Ferry.Reading;

namespace Ferry.IntegrationTests;

/// <summary>
/// Network faults injected by an HTTP proxy in front of the real registry: cut blob streams, 429 with
/// Retry-After, 503s, redirects to "blob storage" on another port; plus a full disk. Named after the
/// reliability checklist cases.
/// </summary>
public sealed class NetworkFaultTests(SecureRegistries env) : IClassFixture<SecureRegistries>
{
    private static string ImageVia(FaultProxy proxy) => $"{proxy.Host}/{SecureRegistries.Repository}:1";

    [Fact]
    public async Task Case31_BlobCutMidway_ResumesWithRangeAndTheArchiveVerifies()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan { CutBlobAfter = 1024 * 1024 });
        var output = Path.Combine(env.Scratch("cut"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retry-delay", "0.1", "-o", output, ImageVia(proxy));
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("download cut at", result.StandardError, StringComparison.Ordinal);
        var resumed = Assert.Single(proxy.Blobs, r => r.Range is not null);
        // It resumes where its bytes ended: at most the cut point (the reset may drop bytes still in flight).
        var offset = long.Parse(resumed.Range!["bytes=".Length..^1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(offset, 1, 1024 * 1024);
        Assert.Equal(206, resumed.Status);
        var verified = await ArchiveVerifier.VerifyAsync(output);
        Assert.True(verified.IsValid, string.Join('\n', verified.Problems));
        Assert.Equal(env.Digest, verified.Images.Single().Digest.ToString());
    }

    [Fact]
    public async Task Case31_ServerIgnoringRange_RestartsFromZeroAndStillVerifies()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan { CutBlobAfter = 512 * 1024, IgnoreRange = true });
        var output = Path.Combine(env.Scratch("norange"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retry-delay", "0.1", "-o", output, ImageVia(proxy));
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("did not honour Range", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(200, Assert.Single(proxy.Blobs, r => r.Range is not null).Status);
        Assert.True((await ArchiveVerifier.VerifyAsync(output)).IsValid);
    }

    [Fact]
    public async Task Case32_RateLimitedWithRetryAfterSeconds_WaitsAndSucceeds()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan { RetryAfter = "2" });
        var clock = Stopwatch.StartNew();
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retry-delay", "0.1", "-o", Path.Combine(env.Scratch("429"), "app.tar"), ImageVia(proxy));
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"finished after {clock.Elapsed}");
        Assert.Contains("429", result.StandardError, StringComparison.Ordinal);
        Assert.Single(proxy.Requests, r => r.Status == 429);
    }

    [Fact]
    public async Task Case32_RateLimitedWithRetryAfterDate_WaitsUntilThen()
    {
        var until = DateTimeOffset.UtcNow.AddSeconds(3).ToString("R");
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan { RetryAfter = until });
        var clock = Stopwatch.StartNew();
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retry-delay", "0.1", "-o", Path.Combine(env.Scratch("429date"), "app.tar"), ImageVia(proxy));
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), $"finished after {clock.Elapsed}");
    }

    [Fact]
    public async Task Case32_RetryAfterBeyondTheCap_FailsAtOnceSayingWhenToRetry()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan { RetryAfter = "7200", RateLimitTimes = 100 });
        var clock = Stopwatch.StartNew();
        var output = Path.Combine(env.Scratch("429cap"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "-o", output, ImageVia(proxy));
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"rate limited by {proxy.Host}, retry after {DateTime.UtcNow.AddSeconds(7200):yyyy-MM-dd HH}", line, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
        Assert.False(File.Exists(output));
    }

    [Fact]
    public async Task Case33_ServiceUnavailableTwice_IsRetriedWithBackoff()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan { ServiceUnavailableTimes = 2 });
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retry-delay", "0.1", "-o", Path.Combine(env.Scratch("503"), "app.tar"), ImageVia(proxy));
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal(2, proxy.Requests.Count(r => r.Status == 503));
        Assert.Contains("503", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case33_NotFound_IsNotRetried()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Seed.Host, new FaultPlan());
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "-o", Path.Combine(env.Scratch("404"), "x.tar"), $"{proxy.Host}/{SecureRegistries.Repository}:missing");
        Assert.Equal(1, result.ExitCode);
        Assert.Single(proxy.Requests, r => r.Path.Contains("/manifests/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Case34_And26_BlobRedirectToStorage_FollowedWithoutAuthorizationAndNothingSecretLogged()
    {
        // Basic-auth registry behind the proxy; blob GETs are redirected to the proxy's storage port with a
        // "signed" query string. Ferry must not send its Authorization there, nor log the signature.
        await using var proxy = await FaultProxy.StartAsync(env.Basic.Host, new FaultPlan
        {
            RedirectBlobs = true,
            StorageAuthorization = SecureRegistries.BasicHeader(SecureRegistries.User, SecureRegistries.Password).ToString(),
        });
        var output = Path.Combine(env.Scratch("redirect"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), SecureRegistries.Password, "save", "--debug", "-u", SecureRegistries.User, "--password-stdin", "-o", output, ImageVia(proxy));
        Assert.True(result.ExitCode == 0, result.StandardError);
        var storage = proxy.Requests.Where(r => r.Listener == "storage").ToList();
        Assert.NotEmpty(storage);
        Assert.All(storage, r => Assert.False(r.HadAuthorization, $"Authorization sent to storage for {r.Path}"));
        Assert.Contains(proxy.Requests, r => r.Listener == "registry" && r.HadAuthorization);
        Assert.True((await ArchiveVerifier.VerifyAsync(output)).IsValid);

        Assert.Contains("?<redacted>", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("SIGNATURE-SECRET", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(SecureRegistries.Password, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(SecureRegistries.BasicHeader(SecureRegistries.User, SecureRegistries.Password).Parameter!, result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case40_DiskFull_ClearError_OnlyTheResumeFilesLeft_AndARerunSucceeds()
    {
        var mountPoint = env.Scratch("tmpfs");
        (await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", mountPoint])).EnsureSuccess("mount a 1 MiB tmpfs (the tests run as root)");
        try
        {
            var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "-q", "-o", Path.Combine(mountPoint, "app.tar"), $"{env.Seed.Host}/{SecureRegistries.Repository}:1");
            Assert.Equal(1, result.ExitCode);
            // The plan's size is known before the first byte (#24): one line with both sizes, and nothing left behind.
            var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Single(lines);
            Assert.Matches($@"not enough space for .*app\.tar: needs [0-9.]+ MiB on {System.Text.RegularExpressions.Regex.Escape(mountPoint)}, [0-9.]+ (KiB|MiB) free; nothing was written", lines[0]);
            Assert.Empty(Directory.GetFileSystemEntries(mountPoint));
        }
        finally
        {
            await ProcessRunner.RunAsync("umount", [mountPoint]);
        }

        var rerun = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "-o", Path.Combine(mountPoint, "app.tar"), $"{env.Seed.Host}/{SecureRegistries.Repository}:1");
        Assert.True(rerun.ExitCode == 0, rerun.StandardError);
        Assert.True((await ArchiveVerifier.VerifyAsync(Path.Combine(mountPoint, "app.tar"))).IsValid);
    }
}
