using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Non-image OCI artifacts travel like images with the default options (issue #26's first item): a Helm chart as
/// <c>helm push</c> lays it out and an <c>artifactType</c> artifact with the empty config, pushed to the real registry
/// by the test, saved beside a container image, saved again (up to date), inspected (what they are, not a platform),
/// verified, loaded into a registry and copied with their digests unchanged; <c>docker load</c> of the bundle takes the
/// image (its manifest.json lists no artifact), and <c>load --daemon</c> refuses the artifacts in one line each.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ArtifactTests(RealComponentsFixture env)
{
    [Fact]
    public async Task HelmChartAndArtifact_TravelLikeImages_WithTheDefaultOptions()
    {
        using var http = new HttpClient();
        var chart = TestImages.Artifact(
            new TestBlob(Encoding.UTF8.GetBytes("""{"name":"mychart","version":"0.1.0","apiVersion":"v2"}"""), "application/vnd.cncf.helm.config.v1+json"),
            [(Gzip("apiVersion: v2\nname: mychart\nversion: 0.1.0\n"), "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "mychart-0.1.0.tgz")]);
        var sbom = TestImages.Artifact(
            new TestBlob("{}"u8.ToArray(), "application/vnd.oci.empty.v1+json"),
            [(Encoding.UTF8.GetBytes("""{"spdxVersion":"SPDX-2.3"}"""), "application/spdx+json", "sbom.spdx.json")],
            artifactType: "application/spdx+json");
        await TestImages.PushImageAsync(http, env.Host, "artifacts/mychart", chart, "0.1.0");
        await TestImages.PushImageAsync(http, env.Host, "artifacts/sbom", sbom, "1");
        var names = new[] { $"{env.Host}/artifacts/mychart:0.1.0", $"{env.Host}/artifacts/sbom:1", $"{env.Host}/test/app:1" };

        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        var save = await FerryCli.RunAsync(["save", "-o", bundle, .. names]);
        Assert.True(save.ExitCode == 0, save.StandardError);
        var again = await FerryCli.RunAsync(["save", "-o", bundle, .. names]);
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Contains("is up to date", again.StandardError, StringComparison.Ordinal);

        var inspect = await FerryCli.RunAsync("inspect", "--json", bundle);
        Assert.True(inspect.ExitCode == 0, inspect.StandardError);
        var images = JsonNode.Parse(inspect.StandardOutput)!["images"]!.AsArray().ToDictionary(i => (string)i!["name"]!);
        Assert.Equal("helm chart mychart 0.1.0", (string?)images[names[0]]!["artifact"]);
        Assert.Empty(images[names[0]]!["platforms"]!.AsArray());
        Assert.Equal("application/spdx+json", (string?)images[names[1]]!["artifactType"]);
        Assert.Equal(["linux/amd64"], images[names[2]]!["platforms"]!.AsArray().Select(p => (string)p!).ToArray());
        Assert.Equal(chart.Manifest.Digest, (string?)images[names[0]]!["digest"]);

        var verify = await FerryCli.RunAsync("verify", bundle);
        Assert.True(verify.ExitCode == 0, verify.StandardError);

        // docker load takes the container image; manifest.json lists nothing an Engine could not load.
        var dockerLoad = await env.Docker.DockerAsync("load", "-i", bundle);
        Assert.True(dockerLoad.ExitCode == 0, dockerLoad.StandardError);
        Assert.Contains($"{env.Host}/test/app:1", dockerLoad.StandardOutput, StringComparison.Ordinal);

        // Into a registry and across registries: byte for byte.
        var load = await FerryCli.RunAsync("load", bundle, "--to", $"{env.Host}/artifacts-loaded");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Equal(chart.Manifest.Digest, await RegistryManifests.DigestAsync(env.Host, "artifacts-loaded/artifacts/mychart", "0.1.0"));
        Assert.Equal(sbom.Manifest.Digest, await RegistryManifests.DigestAsync(env.Host, "artifacts-loaded/artifacts/sbom", "1"));
        var copy = await FerryCli.RunAsync("copy", $"docker://{names[0]}", $"docker://{env.Host}/artifacts-copied/mychart:0.1.0");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        Assert.Equal(chart.Manifest.Digest, await RegistryManifests.DigestAsync(env.Host, "artifacts-copied/mychart", "0.1.0"));

        // An Engine holds images only: the artifacts are refused in one line each, the image beside them loads.
        var daemon = await FerryCli.RunAsync("load", bundle, "--daemon", "-H", env.Docker.Host, "--failed", dir.File("failed.txt"));
        Assert.Equal(2, daemon.ExitCode);
        Assert.Contains($"{names[0]}: is an artifact (application/vnd.cncf.helm.config.v1+json), not a container image", daemon.StandardError, StringComparison.Ordinal);
        Assert.Contains($"{names[1]}: is an artifact (application/spdx+json)", daemon.StandardError, StringComparison.Ordinal);
        Assert.Equal([names[0], names[1]], (await File.ReadAllLinesAsync(dir.File("failed.txt"))).Where(l => !l.StartsWith('#')).ToArray());
    }

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }
}
