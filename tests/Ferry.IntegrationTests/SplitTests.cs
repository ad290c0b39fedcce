using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// `--split-size` (issue #16's split volumes): parts no bigger than asked, byte ranges of the very archive an unsplit
/// save writes (cat restores it byte for byte; docker loads that), read in place by verify, inspect and load from any
/// part, checked per part by sha256sum; a missing part is named; a shorter re-split leaves no stale tail.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SplitTests(RealComponentsFixture env)
{
    private string[] Images => [$"{env.Host}/test/app:1", $"{env.Host}/test/oci:1"];

    [Fact]
    public async Task SplitSave_PartsAreRangesOfTheOneArchive_ReadFromAnyPart_LoadedWithTheSameDigests()
    {
        using var dir = new TempDirectory();
        (await FerryCli.RunAsync(["save", "-o", dir.File("single.tar"), .. Images])).EnsureSuccess("unsplit save");
        var save = await FerryCli.RunAsync(["save", "--split-size", "100KiB", "--checksums", "-o", dir.File("bundle.tar"), .. Images]);
        Assert.True(save.ExitCode == 0, save.StandardError);
        var parts = Directory.GetFiles(dir.Path, "bundle.tar.0*").Order(StringComparer.Ordinal).ToList();
        Assert.True(parts.Count >= 3, $"{parts.Count} part(s)");
        Assert.All(parts, p => Assert.InRange(new FileInfo(p).Length, 1, 100 * 1024));
        Assert.False(File.Exists(dir.File("bundle.tar")));

        // cat restores exactly the archive an unsplit save writes.
        var whole = dir.File("whole.tar");
        await using (var output = File.Create(whole))
        {
            foreach (var part in parts)
            {
                await using var input = File.OpenRead(part);
                await input.CopyToAsync(output);
            }
        }

        Assert.Equal(await File.ReadAllBytesAsync(dir.File("single.tar")), await File.ReadAllBytesAsync(whole));
        (await ProcessRunner.RunAsync("/bin/sh", ["-c", $"cd '{dir.Path}' && sha256sum -c bundle.tar.sha256"], TimeSpan.FromMinutes(1))).EnsureSuccess("sha256sum -c of the parts");

        (await FerryCli.RunAsync("verify", parts[0])).EnsureSuccess("ferry verify of the first part");
        var inspect = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", parts[1])).EnsureSuccess("ferry inspect of another part").StandardOutput)!;
        Assert.Equal(2, inspect["images"]!.AsArray().Count);

        await using var target = await RegistryProcess.StartAsync();
        (await FerryCli.RunAsync("load", parts[0], "--to", target.Host)).EnsureSuccess("ferry load of the parts");
        Assert.Equal(env.Digests["test/app:1"], await RegistryManifests.DigestAsync(target.Host, "test/app", "1"));
        Assert.Equal(env.Digests["test/oci:1"], await RegistryManifests.DigestAsync(target.Host, "test/oci", "1"));

        (await env.Docker.DockerAsync("load", "-i", whole)).EnsureSuccess("docker load of the joined parts");
    }

    [Fact]
    public async Task MissingPart_IsNamed_AndAShorterResplitRemovesTheStaleTail()
    {
        using var dir = new TempDirectory();
        var output = dir.File("b.tar");
        (await FerryCli.RunAsync(["save", "--split-size", "100KiB", "-o", output, .. Images])).EnsureSuccess("split save");
        var many = Directory.GetFiles(dir.Path, "b.tar.0*").Length;

        (await FerryCli.RunAsync(["save", "--split-size", "1MiB", "-o", output, .. Images])).EnsureSuccess("split save, bigger parts");
        var few = Directory.GetFiles(dir.Path, "b.tar.0*").Order(StringComparer.Ordinal).ToList();
        Assert.True(few.Count < many, $"{few.Count} parts after {many}");
        (await FerryCli.RunAsync("verify", few[0])).EnsureSuccess("verify after the re-split");

        (await FerryCli.RunAsync(["save", "--split-size", "100KiB", "-o", output, .. Images])).EnsureSuccess("split save again");
        File.Delete(output + ".001");
        var verify = await FerryCli.RunAsync("verify", output + ".000");
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains($"{output}.001 is missing", verify.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompressedSplit_IsReadFromItsFirstPart()
    {
        using var dir = new TempDirectory();
        var save = await FerryCli.RunAsync(["save", "--compress", "gzip", "--split-size", "64KiB", "-o", dir.File("b.tar.gz"), .. Images]);
        Assert.True(save.ExitCode == 0, save.StandardError);
        var parts = Directory.GetFiles(dir.Path, "b.tar.gz.0*");
        Assert.True(parts.Length >= 2, $"{parts.Length} part(s)");
        var verify = await FerryCli.RunAsync("verify", dir.File("b.tar.gz.000"));
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Contains("gzip", verify.StandardError + verify.StandardOutput, StringComparison.Ordinal);
    }
}
