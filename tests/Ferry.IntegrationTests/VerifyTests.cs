using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary><c>ferry verify</c> on other tools' archives and on layouts broken in the ways issue #5 names.</summary>
[Collection(RealComponentsCollection.Name)]
public sealed class VerifyTests(RealComponentsFixture env)
{
    [Fact]
    public async Task DockerSaveArchive_VerifiesAgainstItsDiffIds()
    {
        using var dir = new TempDirectory();
        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/base:1")).EnsureSuccess("docker pull");
        var archive = dir.File("docker.tar");
        (await env.Docker.DockerAsync("save", "-o", archive, $"{env.Host}/test/base:1")).EnsureSuccess("docker save");
        var verify = await FerryCli.RunAsync("verify", archive);
        Assert.True(verify.ExitCode == 0, verify.StandardError);
        Assert.Contains($"{env.Host}/test/base:1", verify.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingBlob_IsNamed()
    {
        using var dir = new TempDirectory();
        var layout = await SaveLayoutAsync(dir);
        var layer = env.Images["test/app:1"].Layers[^1].Digest;
        File.Delete(Path.Combine(layout, "blobs", "sha256", layer[7..]));
        var verify = await FerryCli.RunAsync("verify", layout);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains($"blob {layer} is missing", verify.StandardError, StringComparison.Ordinal);

        // --json: the same verdict as one object, for scripts; the same exit code.
        var json = await FerryCli.RunAsync("verify", "--json", layout);
        Assert.Equal(1, json.ExitCode);
        var result = JsonNode.Parse(json.StandardOutput)!;
        Assert.False((bool)result["valid"]!);
        Assert.Contains(result["problems"]!.AsArray(), p => ((string)p!).Contains($"blob {layer} is missing", StringComparison.Ordinal));
        Assert.Equal($"{env.Host}/test/app:1", (string?)result["images"]![0]!["name"]);
        Assert.Equal("not-checked", (string?)result["bundleSignature"]);
    }

    [Fact]
    public async Task ManifestPointingAtABlobOfTheWrongSize_IsNamed()
    {
        using var dir = new TempDirectory();
        var layout = await SaveLayoutAsync(dir);
        var blobs = Path.Combine(layout, "blobs", "sha256");
        var indexPath = Path.Combine(layout, "index.json");
        var index = JsonNode.Parse(await File.ReadAllTextAsync(indexPath))!;
        var entry = index["manifests"]![0]!;
        var manifest = JsonNode.Parse(await File.ReadAllBytesAsync(Path.Combine(blobs, ((string)entry["digest"]!)[7..])))!;
        var layer = manifest["layers"]![0]!;
        layer["size"] = (long)layer["size"]! + 1;

        // A consistent chain of digests down to the lie about the size: only the size check can catch it.
        var bytes = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        await File.WriteAllBytesAsync(Path.Combine(blobs, digest[7..]), bytes);
        entry["digest"] = digest;
        entry["size"] = bytes.Length;
        await File.WriteAllTextAsync(indexPath, index.ToJsonString());

        var verify = await FerryCli.RunAsync("verify", layout);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains($"blob {layer["digest"]} has", verify.StandardError, StringComparison.Ordinal);
        Assert.Contains($"its descriptor says {layer["size"]}", verify.StandardError, StringComparison.Ordinal);
    }

    private async Task<string> SaveLayoutAsync(TempDirectory dir)
    {
        var layout = dir.File("layout");
        (await FerryCli.RunAsync("save", "--format", "dir", "-o", layout, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save --format dir");
        return layout;
    }
}
