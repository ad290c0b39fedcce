using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Issue #8 through the public API only: the sample program (samples/Ferry.Sample) saves, inspects and
/// verifies against the real registry, with its progress events in order and its byte counts adding up;
/// and idempotence — a second save is a no-op with no blob request (counted by a proxy), --force rewrites.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class LibraryApiTests(RealComponentsFixture env)
{
    [Fact]
    public async Task SampleProgram_SavesInspectsVerifies_EventsInOrderAndBytesAddUp()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("sample.tar");
        var images = new[] { $"{env.Host}/test/app:1", $"{env.Host}/test/multi:1" };
        var run = await ProcessRunner.RunAsync("dotnet", [SampleAssembly(), archive, .. images], TimeSpan.FromMinutes(2));
        Assert.True(run.ExitCode == 0, run.StandardOutput + run.StandardError);
        var lines = run.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        foreach (var image in images)
        {
            var resolved = lines.FindIndex(l => l.StartsWith($"resolved {image} ", StringComparison.Ordinal));
            var saved = lines.FindIndex(l => l.StartsWith($"saved {image} ", StringComparison.Ordinal));
            Assert.True(resolved >= 0 && saved > resolved, $"{image}: resolved at {resolved}, saved at {saved}\n{run.StandardOutput}");
        }

        var total = long.Parse(lines.Single(l => l.StartsWith("downloading ", StringComparison.Ordinal)).Split(' ')[3], System.Globalization.CultureInfo.InvariantCulture);
        var sum = lines.Where(l => l.StartsWith("bytes ", StringComparison.Ordinal)).Sum(l => long.Parse(l[6..], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(total, sum);
        Assert.Contains("executed=true", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"contains {env.Host}/test/multi:1 {env.Digests["test/multi:1"]}", run.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("verified", lines);

        var again = await ProcessRunner.RunAsync("dotnet", [SampleAssembly(), archive, .. images], TimeSpan.FromMinutes(2));
        Assert.True(again.ExitCode == 0, again.StandardOutput + again.StandardError);
        Assert.Contains("executed=false archive=", again.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("bytes ", again.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PublicApi_SaveThenLoad_KeepsTheDigests()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("api.tar");
        var access = new Ferry.Registry.RegistryAccess(Ferry.Registry.Auth.AnonymousCredentialProvider.Instance, new Ferry.Registry.RegistryClientOptions());
        var saved = await Ferry.Images.SaveAsync(new Ferry.Saving.SaveRequest { Images = [$"{env.Host}/test/oci:1"], Output = archive }, access: access);
        Assert.True(saved.Executed);
        Assert.Equal(env.Digests["test/oci:1"], saved.Images.Single().Digest.ToString());

        await using var target = await RegistryProcess.StartAsync();
        var events = new List<Ferry.Loading.LoadEvent>();
        var loaded = await Ferry.Images.LoadAsync(new Ferry.Loading.LoadRequest { Archives = [archive], Target = $"{target.Host}/api" }, new Progress<Ferry.Loading.LoadEvent>(events.Add), access);
        Assert.Empty(loaded.Failed);
        var image = Assert.Single(loaded.Images);
        Assert.Equal(env.Digests["test/oci:1"], image.Digest.ToString());
        Assert.Equal($"{target.Host}/api/test/oci:1", image.Target.ToString());

        var inspected = await Ferry.Images.InspectAsync(archive);
        Assert.Equal($"{env.Host}/test/oci:1", inspected.Images.Single().Name);
        Assert.True((await Ferry.Images.VerifyAsync(archive)).IsValid);
    }

    [Fact]
    public async Task SecondSave_IsANoOpWithoutBlobRequests_AndForceRewrites()
    {
        await using var proxy = await FaultProxy.StartAsync(env.Host, new FaultPlan());
        using var dir = new TempDirectory();
        var archive = dir.File("idem.tar");
        var image = $"{proxy.Host}/test/app:1";
        (await FerryCli.RunAsync("save", "-o", archive, image)).EnsureSuccess("first save");
        var blobsAfterFirst = proxy.Blobs.Count();
        Assert.True(blobsAfterFirst > 0);
        var written = File.GetLastWriteTimeUtc(archive);

        var second = await FerryCli.RunAsync("save", "-o", archive, image);
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Contains("is up to date", second.StandardError, StringComparison.Ordinal);
        Assert.Equal(blobsAfterFirst, proxy.Blobs.Count());
        Assert.Equal(written, File.GetLastWriteTimeUtc(archive));

        var forced = await FerryCli.RunAsync("save", "--force", "-o", archive, image);
        Assert.True(forced.ExitCode == 0, forced.StandardError);
        Assert.True(proxy.Blobs.Count() > blobsAfterFirst, "--force downloaded nothing");
        Assert.True(File.GetLastWriteTimeUtc(archive) > written);
    }

    [Fact]
    public async Task OtherContentAtTheOutput_IsNotMistakenForUpToDate()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("x.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/base:1")).EnsureSuccess("save base");
        var other = await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1");
        Assert.True(other.ExitCode == 0, other.StandardError);
        Assert.DoesNotContain("up to date", other.StandardError, StringComparison.Ordinal);
        var gzip = await FerryCli.RunAsync("save", "-c", "gzip", "-o", archive, $"{env.Host}/test/app:1");
        Assert.DoesNotContain("up to date", gzip.StandardError, StringComparison.Ordinal);
    }

    private static string SampleAssembly() => FerryCli.BuildOutput(Path.Combine("samples", "Ferry.Sample"), "Ferry.Sample.dll");
}
