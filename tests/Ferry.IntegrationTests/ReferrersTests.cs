using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;
using Ferry.Registry;
using Ferry.References;

namespace Ferry.IntegrationTests;

/// <summary>
/// Artifacts that refer to an image (#17) — an SPDX SBOM with <c>subject</c> set, pushed through the registry API —
/// found and carried both ways a registry may hold them: the fallback tag schema against the real docker-registry 2.8
/// (which has no referrers API), and the OCI 1.1 referrers API through <see cref="ReferrersRegistry"/>, an in-test
/// server that implements that one endpoint per the distribution spec in front of a real registry.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ReferrersTests
{
    private const string Spdx = "application/spdx+json";

    [Fact]
    public async Task AnSbomBehindTheFallbackTag_IsSaved_AndLoadedAsAReferrerWithTheFallbackTagUpdated()
    {
        using var dir = new TempDirectory();
        await using var source = await RegistryProcess.StartAsync();
        using var http = new HttpClient();
        var image = await PushImageAsync(http, source.Host, "ref/app", "1", "fallback");
        var sbom = await PushSbomAsync(http, source.Host, "ref/app", image);

        // A client without the referrers API keeps the fallback tag: an index of the subject's referrers.
        var fallbackTag = "sha256-" + image.Digest[7..];
        var fallback = new TestBlob(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = "application/vnd.oci.image.index.v1+json",
            ["manifests"] = new JsonArray(new JsonObject { ["mediaType"] = TestImages.OciManifest, ["digest"] = sbom.Digest, ["size"] = sbom.Content.Length, ["artifactType"] = Spdx }),
        }.ToJsonString()), "application/vnd.oci.image.index.v1+json");
        await TestImages.PushManifestAsync(http, source.Host, "ref/app", fallback, fallbackTag);

        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-q", "-o", bundle, $"{source.Host}/ref/app:1")).EnsureSuccess("ferry save");
        var artifacts = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", bundle)).EnsureSuccess("ferry inspect").StandardOutput).RootElement.GetProperty("images")[0].GetProperty("artifacts");
        Assert.Equal(1, artifacts.GetArrayLength());
        Assert.Equal("sbom", artifacts[0].GetProperty("kind").GetString());
        Assert.Equal(Spdx, artifacts[0].GetProperty("artifactType").GetString());
        Assert.Equal(sbom.Digest, artifacts[0].GetProperty("digest").GetString());
        Assert.Equal(JsonValueKind.Null, artifacts[0].GetProperty("tag").ValueKind);

        // --no-referrers leaves it out.
        var bare = dir.File("bare.tar");
        (await FerryCli.RunAsync("save", "-q", "--no-referrers", "-o", bare, $"{source.Host}/ref/app:1")).EnsureSuccess("ferry save --no-referrers");
        Assert.Equal(0, JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", bare)).EnsureSuccess("ferry inspect").StandardOutput).RootElement.GetProperty("images")[0].GetProperty("artifacts").GetArrayLength());

        // Loaded into another real registry 2.8: the SBOM by digest, byte for byte, and the fallback tag lists it.
        await using var target = await RegistryProcess.StartAsync();
        (await FerryCli.RunAsync("load", bundle, "--to", target.Host)).EnsureSuccess("ferry load");
        Assert.Equal(sbom.Content, await GetManifestAsync(http, target.Host, "ref/app", sbom.Digest));
        var index = JsonNode.Parse(await GetManifestAsync(http, target.Host, "ref/app", fallbackTag))!;
        var listed = index["manifests"]!.AsArray().Single()!;
        Assert.Equal(sbom.Digest, listed["digest"]!.GetValue<string>());
        Assert.Equal(Spdx, listed["artifactType"]!.GetValue<string>());

        // load --no-referrers pushes the image alone.
        (await FerryCli.RunAsync("load", bundle, "--no-referrers", "--to", $"{target.Host}/bare")).EnsureSuccess("ferry load --no-referrers");
        Assert.Equal(["1"], JsonNode.Parse(await http.GetStringAsync($"http://{target.Host}/v2/bare/ref/app/tags/list"))!["tags"]!.AsArray().Select(t => t!.GetValue<string>()));
        using (var absent = await http.GetAsync($"http://{target.Host}/v2/bare/ref/app/manifests/{sbom.Digest}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, absent.StatusCode);
        }

        // A second load adds nothing twice.
        (await FerryCli.RunAsync("load", bundle, "--to", target.Host)).EnsureSuccess("ferry load again");
        Assert.Single(JsonNode.Parse(await GetManifestAsync(http, target.Host, "ref/app", fallbackTag))!["manifests"]!.AsArray());
    }

    [Fact]
    public async Task TheReferrersApi_IsUsed_WhereTheRegistryHasIt_BothWays()
    {
        using var dir = new TempDirectory();
        await using var sourceStore = await RegistryProcess.StartAsync();
        await using var source = await ReferrersRegistry.StartAsync(sourceStore.Host);
        using var http = new HttpClient();
        var image = await PushImageAsync(http, source.Host, "ref/api", "1", "api");
        var sbom = await PushSbomAsync(http, source.Host, "ref/api", image);

        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-q", "-o", bundle, $"{source.Host}/ref/api:1")).EnsureSuccess("ferry save");
        var artifacts = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", bundle)).EnsureSuccess("ferry inspect").StandardOutput).RootElement.GetProperty("images")[0].GetProperty("artifacts");
        Assert.Equal(sbom.Digest, artifacts.EnumerateArray().Single().GetProperty("digest").GetString());

        // Found through the API: the fallback tag is asked for only when the API answers 404.
        Assert.Contains($"GET /v2/ref/api/referrers/{image.Digest}", source.Requests);
        Assert.DoesNotContain(source.Requests, r => r.StartsWith($"GET /v2/ref/api/manifests/sha256-{image.Digest[7..]}", StringComparison.Ordinal) && !r.Contains('.', StringComparison.Ordinal));

        // ferry serve answers the referrers API from the bundle (filters applied and said so), and a save from it carries the SBOM again.
        await using (var served = await FerryServer.StartAsync(bundle))
        {
            var listed = JsonNode.Parse(await http.GetStringAsync($"http://{served.Host}/v2/ref/api/referrers/{image.Digest}"))!["manifests"]!.AsArray();
            Assert.Equal(sbom.Digest, listed.Single()!["digest"]!.GetValue<string>());
            Assert.Equal(Spdx, listed.Single()!["artifactType"]!.GetValue<string>());
            using var none = await http.GetAsync($"http://{served.Host}/v2/ref/api/referrers/{image.Digest}?artifactType=application%2Fvnd.example.none");
            Assert.Equal("artifactType", none.Headers.GetValues("OCI-Filters-Applied").Single());
            Assert.Empty(JsonNode.Parse(await none.Content.ReadAsStringAsync())!["manifests"]!.AsArray());
            var again = dir.File("again.tar");
            (await FerryCli.RunAsync("save", "-q", "-o", again, $"{served.Host}/ref/api:1")).EnsureSuccess("ferry save from ferry serve");
            var carried = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", again)).EnsureSuccess("ferry inspect").StandardOutput).RootElement.GetProperty("images")[0].GetProperty("artifacts");
            Assert.Equal(sbom.Digest, carried.EnumerateArray().Single().GetProperty("digest").GetString());
        }

        // The target answers OCI-Subject: no fallback tag is written, and its referrers API lists the SBOM.
        await using var targetStore = await RegistryProcess.StartAsync();
        await using var target = await ReferrersRegistry.StartAsync(targetStore.Host);
        (await FerryCli.RunAsync("load", bundle, "--to", target.Host)).EnsureSuccess("ferry load");
        var referrers = JsonNode.Parse(await http.GetStringAsync($"http://{target.Host}/v2/ref/api/referrers/{image.Digest}"))!;
        Assert.Equal(sbom.Digest, referrers["manifests"]!.AsArray().Single()!["digest"]!.GetValue<string>());
        var tags = JsonNode.Parse(await http.GetStringAsync($"http://{targetStore.Host}/v2/ref/api/tags/list"))!["tags"]!.AsArray().Select(t => t!.GetValue<string>()).ToList();
        Assert.Equal(["1"], tags);

        // A registry that will not list tags: cosign's tags are then asked for one by one, and still found.
        using (var keys = new TempDirectory())
        {
            var key = await Cosign.GenerateAsync(keys.Path, "cosign");
            var signatureTag = await Cosign.SignAsync(source.Host, "ref/api", image.Digest, $"{source.Host}/ref/api:1", key);
            source.RefuseTagList = true;
            var probed = dir.File("probed.tar");
            (await FerryCli.RunAsync("save", "-q", "-o", probed, $"{source.Host}/ref/api:1")).EnsureSuccess("ferry save without tag listing");
            var found = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", probed)).EnsureSuccess("ferry inspect").StandardOutput).RootElement.GetProperty("images")[0].GetProperty("artifacts");
            Assert.Contains(found.EnumerateArray(), a => a.GetProperty("tag").GetString() == signatureTag);
            Assert.Contains(found.EnumerateArray(), a => a.GetProperty("digest").GetString() == sbom.Digest);
            source.RefuseTagList = false;
        }

        // A filter the registry did not apply (no OCI-Filters-Applied) is applied by the client.
        await PushArtifactAsync(http, source.Host, "ref/api", image, "application/vnd.example.other+json", "other");
        source.IgnoreFilters = true;
        using var client = new RegistryClient();
        var filtered = await client.ListReferrersAsync(ImageReference.Parse($"{source.Host}/ref/api:1"), Ferry.References.Digest.Parse(image.Digest), Spdx);
        Assert.Equal([sbom.Digest], filtered!.Select(r => r.Descriptor.Digest.ToString()));
        source.IgnoreFilters = false;
        Assert.Equal(2, (await client.ListReferrersAsync(ImageReference.Parse($"{source.Host}/ref/api:1"), Ferry.References.Digest.Parse(image.Digest)))!.Count);
    }

    private static async Task<TestBlob> PushImageAsync(HttpClient http, string registry, string repository, string tag, string seed)
    {
        var image = TestImages.Image([TestImages.RandomLayer(seed, 4096, docker: false)], docker: false, label: seed);
        await TestImages.PushImageAsync(http, registry, repository, image, tag);
        return image.Manifest;
    }

    private static Task<TestBlob> PushSbomAsync(HttpClient http, string registry, string repository, TestBlob subject) =>
        PushArtifactAsync(http, registry, repository, subject, Spdx, """{"spdxVersion":"SPDX-2.3","name":"app","packages":[{"name":"busybox","versionInfo":"1.35"}]}""");

    /// <summary>An OCI 1.1 artifact: the empty config, one layer of the type, <c>artifactType</c> and <c>subject</c> set; pushed by digest.</summary>
    private static async Task<TestBlob> PushArtifactAsync(HttpClient http, string registry, string repository, TestBlob subject, string type, string content)
    {
        var empty = new TestBlob("{}"u8.ToArray(), "application/vnd.oci.empty.v1+json");
        var layer = new TestBlob(Encoding.UTF8.GetBytes(content), type);
        await TestImages.PushBlobAsync(http, registry, repository, empty);
        await TestImages.PushBlobAsync(http, registry, repository, layer);
        var manifest = new TestBlob(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = TestImages.OciManifest,
            ["artifactType"] = type,
            ["config"] = empty.Descriptor(),
            ["layers"] = new JsonArray(layer.Descriptor()),
            ["subject"] = subject.Descriptor(),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = "2026-11-30T00:00:00Z" },
        }.ToJsonString()), TestImages.OciManifest);
        await TestImages.PushManifestAsync(http, registry, repository, manifest, manifest.Digest);
        return manifest;
    }

    private static async Task<byte[]> GetManifestAsync(HttpClient http, string registry, string repository, string reference)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{registry}/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }
}
