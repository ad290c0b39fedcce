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

        // Served: a registry client (curl) fetches the chart's manifest and blob byte for byte.
        await using (var server = await FerryServer.StartAsync(bundle))
        {
            var curl = Components.Require("curl", "curl");
            var manifest = await ProcessRunner.RunAsync(curl, ["-sf", "-H", "Accept: application/vnd.oci.image.manifest.v1+json", $"http://{server.Host}/v2/artifacts/mychart/manifests/0.1.0"]);
            Assert.True(manifest.ExitCode == 0, manifest.StandardError);
            Assert.Equal(chart.Manifest.Content, Encoding.UTF8.GetBytes(manifest.StandardOutput));
            var blob = dir.File("chart.tgz");
            (await ProcessRunner.RunAsync(curl, ["-sf", "-o", blob, $"http://{server.Host}/v2/artifacts/mychart/blobs/{chart.Layers[0].Digest}"])).EnsureSuccess("curl blob");
            Assert.Equal(chart.Layers[0].Content, await File.ReadAllBytesAsync(blob));
        }

        // Merged with another bundle: the artifacts keep their digests, and the merge verifies.
        var other = dir.File("other.tar");
        (await FerryCli.RunAsync("save", "-o", other, $"{env.Host}/artifacts/sbom:1", $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save other");
        var merged = dir.File("merged.tar");
        var merge = await FerryCli.RunAsync("merge", "-o", merged, bundle, other);
        Assert.True(merge.ExitCode == 0, merge.StandardError);
        var mergedImages = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", merged)).StandardOutput)!["images"]!.AsArray().ToDictionary(i => (string)i!["name"]!);
        Assert.Equal(chart.Manifest.Digest, (string?)mergedImages[names[0]]!["digest"]);
        Assert.Equal(sbom.Manifest.Digest, (string?)mergedImages[names[1]]!["digest"]);
        Assert.Equal(4, mergedImages.Count);
        Assert.True((await FerryCli.RunAsync("verify", merged)).ExitCode == 0);
    }

    [Fact]
    public async Task PlainFiles_TravelAsOrasLaysThemOut_AndExtractWritesThemBack()
    {
        using var dir = new TempDirectory();
        var iso = dir.File("installer.iso");
        await File.WriteAllBytesAsync(iso, System.Security.Cryptography.RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 17));
        var values = dir.File("values.yaml");
        await File.WriteAllTextAsync(values, "replicas: 3\n");
        var bundle = dir.File("files.tar");
        var save = await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1", "--add-file", $"{iso}:files/installer:1.0", "--add-file", values);
        Assert.True(save.ExitCode == 0, save.StandardError);
        var again = await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1", "--add-file", $"{iso}:files/installer:1.0", "--add-file", values);
        Assert.Contains("is up to date", again.StandardError, StringComparison.Ordinal);
        Assert.True((await FerryCli.RunAsync("verify", bundle)).ExitCode == 0);
        var inspected = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", bundle)).StandardOutput)!["images"]!.AsArray().ToDictionary(i => (string)i!["name"]!);
        Assert.Equal("file installer.iso", (string?)inspected["docker.io/files/installer:1.0"]!["artifact"]);
        Assert.True(inspected.ContainsKey("docker.io/files/values.yaml:latest"));

        // Into the registry: the manifest is oras push's layout, and the blob is the file.
        var load = await FerryCli.RunAsync("load", bundle, "--to", $"{env.Host}/files-loaded");
        Assert.True(load.ExitCode == 0, load.StandardError);
        var reload = await FerryCli.RunAsync("load", bundle, "--to", $"{env.Host}/files-loaded");
        Assert.True(reload.ExitCode == 0, reload.StandardError);
        Assert.Contains("nothing to do: all 3 image(s) unchanged", reload.StandardError, StringComparison.Ordinal);
        var manifest = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "files-loaded/files/installer", "1.0"))!;
        Assert.Equal("application/vnd.oci.image.manifest.v1+json", (string?)manifest["mediaType"]);
        Assert.Equal("application/vnd.unknown.artifact.v1", (string?)manifest["artifactType"]);
        Assert.Equal("application/vnd.oci.empty.v1+json", (string?)manifest["config"]!["mediaType"]);
        Assert.Equal("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", (string?)manifest["config"]!["digest"]);
        var layer = manifest["layers"]!.AsArray().Single()!;
        Assert.Equal("application/x-iso9660-image", (string?)layer["mediaType"]);
        Assert.Equal("installer.iso", (string?)layer["annotations"]!["org.opencontainers.image.title"]);
        using var http = new HttpClient();
        Assert.Equal(await File.ReadAllBytesAsync(iso), await http.GetByteArrayAsync($"http://{env.Host}/v2/files-loaded/files/installer/blobs/{(string)layer["digest"]!}"));
        var yamlLayer = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "files-loaded/files/values.yaml", "latest"))!["layers"]![0]!;
        Assert.Equal("application/yaml", (string?)yamlLayer["mediaType"]);

        // Back out on the far side, without a registry: byte for byte; an existing file is not replaced unless asked.
        var output = dir.File("out");
        var extract = await FerryCli.RunAsync("extract", bundle, "files/installer:1.0", "-o", output);
        Assert.True(extract.ExitCode == 0, extract.StandardError);
        Assert.Equal(await File.ReadAllBytesAsync(iso), await File.ReadAllBytesAsync(Path.Combine(output, "installer.iso")));
        var twice = await FerryCli.RunAsync("extract", bundle, "files/installer:1.0", "-o", output);
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("exists (--force replaces it)", twice.StandardError, StringComparison.Ordinal);
        Assert.Equal(0, (await FerryCli.RunAsync("extract", bundle, "files/installer:1.0", "-o", output, "--force")).ExitCode);
        var image = await FerryCli.RunAsync("extract", bundle, $"{env.Host}/test/app:1", "-o", output);
        Assert.Equal(1, image.ExitCode);
        Assert.Contains("is a container image, not a file artifact", image.StandardError, StringComparison.Ordinal);

        // A bundle file's files: beside its images, paths relative to the bundle file; saved, and copied into a registry.
        var yaml = dir.File("bundle.yaml");
        await File.WriteAllTextAsync(yaml, $"files:\n  - path: installer.iso\n    name: files/installer:2.0\n{env.Host}:\n  images:\n    test/app: [\"1\"]\n");
        var fromYaml = dir.File("from-yaml.tar");
        var yamlSave = await FerryCli.RunAsync("save", "-f", yaml, "-o", fromYaml);
        Assert.True(yamlSave.ExitCode == 0, yamlSave.StandardError);
        var yamlImages = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", fromYaml)).StandardOutput)!["images"]!.AsArray().Select(i => (string)i!["name"]!).Order(StringComparer.Ordinal);
        Assert.Equal([$"{env.Host}/test/app:1", "docker.io/files/installer:2.0"], yamlImages);
        var yamlCopy = await FerryCli.RunAsync("copy", "-f", yaml, "--to", $"{env.Host}/files-copied");
        Assert.True(yamlCopy.ExitCode == 0, yamlCopy.StandardError);
        var copiedLayer = JsonNode.Parse(await RegistryManifests.GetAsync(env.Host, "files-copied/files/installer", "2.0"))!["layers"]![0]!;
        Assert.Equal((string)layer["digest"]!, (string?)copiedLayer["digest"]);

        // A title that would leave the directory (pushed by hand, as a hostile bundle would carry it) is refused; nothing is written.
        var hostile = TestImages.Artifact(new TestBlob("{}"u8.ToArray(), "application/vnd.oci.empty.v1+json"), [("owned"u8.ToArray(), "text/plain", "../escaped.txt")]);
        await TestImages.PushImageAsync(http, env.Host, "files/hostile", hostile, "1");
        var hostileBundle = dir.File("hostile.tar");
        (await FerryCli.RunAsync("save", "-o", hostileBundle, $"{env.Host}/files/hostile:1")).EnsureSuccess("save hostile");
        var refused = await FerryCli.RunAsync("extract", hostileBundle, $"{env.Host}/files/hostile:1", "-o", dir.File("inner"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("not a plain file name; refused", refused.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("escaped.txt")));
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
