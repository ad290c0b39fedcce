using System.Net;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// <c>ferry serve</c> (#18): a bundle served as a registry and pulled by the real clients — dockerd, podman, skopeo,
/// containerd's ctr and ferry itself — each getting the digests the source registry served.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ServeTests(RealComponentsFixture env)
{
    private static readonly string[] ManifestTypes =
    [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    [Fact]
    public async Task ABundle_IsPulledByDockerPodmanSkopeoCtrAndFerry_WithTheSourceDigests()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "--all-platforms", "-o", bundle, $"{env.Host}/test/multi:1", $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartAsync(bundle);
        Assert.Null(server.ExitCode);
        Assert.Contains("serving 3 image(s) in 3 repositories", server.Log, StringComparison.Ordinal);

        // skopeo: the manifest digests, and a copy of every platform.
        var skopeo = Components.Require("skopeo", "skopeo");
        foreach (var name in new[] { "test/multi:1", "test/app:1", "test/oci:1" })
        {
            var raw = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", "--tls-verify=false", $"docker://{server.Host}/{name}"])).EnsureSuccess($"skopeo inspect {name}");
            Assert.Equal(env.Digests[name], "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput.TrimEnd('\n')))));
        }

        (await ProcessRunner.RunAsync(skopeo, ["copy", "--all", "--src-tls-verify=false", $"docker://{server.Host}/test/multi:1", $"oci:{dir.File("copied")}:m"])).EnsureSuccess("skopeo copy --all");

        // docker pull (dockerd 20.10 treats 127.0.0.0/8 registries as insecure) and run.
        foreach (var name in new[] { "test/app", "test/multi" })
        {
            (await env.Docker.DockerAsync("pull", $"{server.Host}/{name}:1")).EnsureSuccess("docker pull");
            var repoDigests = (await env.Docker.DockerAsync("image", "inspect", "--format", "{{json .RepoDigests}}", $"{server.Host}/{name}:1")).EnsureSuccess("docker inspect").StandardOutput;
            Assert.Contains($"{server.Host}/{name}@{env.Digests[$"{name}:1"]}", repoDigests, StringComparison.Ordinal);
        }

        Assert.Equal("hello from app", await env.Docker.RunAsync($"{server.Host}/test/app:1", "cat", "/app.txt"));

        // The daemon is shared: the tags this test added go, so no other test finds an image under two names.
        (await env.Docker.DockerAsync("rmi", $"{server.Host}/test/app:1", $"{server.Host}/test/multi:1")).EnsureSuccess("docker rmi");

        // podman pull into a private store.
        var podman = Components.Require("podman", "podman");
        string[] store = ["--root", dir.File("root"), "--runroot", dir.File("runroot"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"];
        foreach (var name in new[] { "test/oci:1", "test/multi:1" })
        {
            (await ProcessRunner.RunAsync(podman, [.. store, "pull", "--tls-verify=false", $"{server.Host}/{name}"])).EnsureSuccess("podman pull");
            var podmanDigest = (await ProcessRunner.RunAsync(podman, [.. store, "image", "inspect", "--format", "{{.Digest}}", $"{server.Host}/{name}"])).EnsureSuccess("podman inspect").StandardOutput.Trim();
            Assert.Equal(env.Digests[name], podmanDigest);
        }

        await ProcessRunner.RunAsync(podman, [.. store, "rmi", "-a", "-f"]);

        // containerd's ctr, with its own root and socket.
        await using (var containerd = await Containerd.StartAsync(dir.File("containerd")))
        {
            (await containerd.CtrAsync("images", "pull", "--plain-http", "--all-platforms", $"{server.Host}/test/multi:1")).EnsureSuccess("ctr images pull");
            var listed = (await containerd.CtrAsync("images", "ls")).EnsureSuccess("ctr images ls").StandardOutput;
            Assert.Contains(env.Digests["test/multi:1"], listed, StringComparison.Ordinal);
        }

        // ferry itself: a save from the served bundle is the same bundle.
        var again = dir.File("again.tar");
        (await FerryCli.RunAsync("save", "--all-platforms", "-o", again, $"{server.Host}/test/multi:1")).EnsureSuccess("ferry save from ferry serve");
        var inspect = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", again)).EnsureSuccess("ferry inspect").StandardOutput);
        Assert.Equal(env.Digests["test/multi:1"], inspect.RootElement.GetProperty("images")[0].GetProperty("digest").GetString());

        Assert.Equal(0, await server.StopAsync());
        Assert.Contains("ferry: stopped", server.Log, StringComparison.Ordinal);
        Assert.Matches(@"GET /v2/test/multi/blobs/sha256:[0-9a-f]{64} HTTP/1.1 200 \d+", server.Log); // skopeo copy --all fetched it (docker may hold layers already)
    }

    [Fact]
    public async Task TheApi_Ranges_Pages_Errors_AndRefusesPushes()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1", $"{env.Host}/test/base:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartAsync(bundle, "--log-format", "json");
        using var http = new HttpClient { BaseAddress = new Uri($"http://{server.Host}") };

        var root = await http.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal("registry/2.0", root.Headers.GetValues("Docker-Distribution-API-Version").Single());

        // Manifests by tag and by digest, HEAD, and content negotiation.
        var byTag = await GetManifestAsync(http, "/v2/test/app/manifests/1", ManifestTypes);
        Assert.Equal(HttpStatusCode.OK, byTag.StatusCode);
        Assert.Equal(env.Digests["test/app:1"], byTag.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Equal("application/vnd.docker.distribution.manifest.v2+json", byTag.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await GetManifestAsync(http, $"/v2/test/app/manifests/{env.Digests["test/app:1"]}", ManifestTypes)).StatusCode);
        using (var head = new HttpRequestMessage(HttpMethod.Head, "/v2/test/oci/manifests/1"))
        {
            var response = await http.SendAsync(head);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(env.Digests["test/oci:1"], response.Headers.GetValues("Docker-Content-Digest").Single());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await GetManifestAsync(http, "/v2/test/oci/manifests/1", ["application/vnd.docker.distribution.manifest.v2+json"])).StatusCode);
        await ExpectErrorAsync(await GetManifestAsync(http, "/v2/test/app/manifests/2", ManifestTypes), HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await ExpectErrorAsync(await http.GetAsync("/v2/test/nothing/manifests/1"), HttpStatusCode.NotFound, "NAME_UNKNOWN");
        await ExpectErrorAsync(await http.GetAsync($"/v2/test/app/blobs/sha256:{new string('0', 64)}"), HttpStatusCode.NotFound, "BLOB_UNKNOWN");

        // Blobs: whole, ranges (206), a range past the end (416).
        var layer = env.Images["test/app:1"].Layers[1];
        var whole = await http.GetAsync($"/v2/test/app/blobs/{layer.Digest}");
        Assert.Equal(layer.Content, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal(layer.Digest, whole.Headers.GetValues("Docker-Content-Digest").Single());
        foreach (var (from, to, expectedFrom, expectedLength) in new (long?, long?, long, long)[] { (10, 19, 10, 10), (5, null, 5, layer.Content.Length - 5), (null, 7, layer.Content.Length - 7, 7) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/test/app/blobs/{layer.Digest}");
            request.Headers.Range = new RangeHeaderValue(from, to);
            var partial = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(layer.Content.AsSpan((int)expectedFrom, (int)expectedLength).ToArray(), await partial.Content.ReadAsByteArrayAsync());
            Assert.Equal(expectedFrom, partial.Content.Headers.ContentRange!.From);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/test/app/blobs/{layer.Digest}"))
        {
            request.Headers.Range = new RangeHeaderValue(layer.Content.Length + 10, null);
            var unsatisfiable = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
            Assert.Equal($"bytes */{layer.Content.Length}", unsatisfiable.Content.Headers.GetValues("Content-Range").Single());
        }

        // _catalog and tags/list with n/last pagination.
        var first = await http.GetAsync("/v2/_catalog?n=2");
        Assert.Equal(["test/app", "test/base"], Strings(await first.Content.ReadAsStringAsync(), "repositories"));
        Assert.Contains("rel=\"next\"", first.Headers.GetValues("Link").Single(), StringComparison.Ordinal);
        var next = await http.GetAsync("/v2/_catalog?n=2&last=test/base");
        Assert.Equal(["test/oci"], Strings(await next.Content.ReadAsStringAsync(), "repositories"));
        Assert.False(next.Headers.Contains("Link"));
        Assert.Equal(["1"], Strings(await (await http.GetAsync("/v2/test/app/tags/list")).Content.ReadAsStringAsync(), "tags"));

        // Read-only: a push is refused with the spec's code.
        await ExpectErrorAsync(await http.PostAsync("/v2/test/app/blobs/uploads/", null), HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        await ExpectErrorAsync(await http.PutAsync("/v2/test/app/manifests/2", new ByteArrayContent([])), HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");

        Assert.Equal(0, await server.StopAsync());
        var logLines = server.Log.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Contains(logLines, l => l.GetProperty("status").GetInt32() == 206 && l.GetProperty("method").GetString() == "GET");
        Assert.Contains(logLines, l => l.GetProperty("status").GetInt32() == 405);
    }

    [Fact]
    public async Task TlsAndHtpasswd_HttpTwo_AndAWrongPasswordIsRefused()
    {
        using var dir = new TempDirectory();
        using var pki = new TestCertificates(dir.File("pki"));
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        var htpasswd = dir.File("users.htpasswd");
        var entry = (await ProcessRunner.RunAsync(Components.Require("htpasswd", "apache2-utils"), ["-Bbn", "-C", "12", "puller", "s3cret-pull"])).EnsureSuccess("htpasswd -B");
        await File.WriteAllTextAsync(htpasswd, entry.StandardOutput);
        await using var server = await FerryServer.StartAsync(bundle, "--tls-cert", pki.ServerCertificate, "--tls-key", pki.ServerKey, "--htpasswd", htpasswd);
        Assert.Null(server.ExitCode);
        var certDir = dir.File("certs");
        Directory.CreateDirectory(certDir);
        File.Copy(pki.CaFile, Path.Combine(certDir, "ca.crt"));

        var skopeo = Components.Require("skopeo", "skopeo");
        var good = await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", "--cert-dir", certDir, "--creds", "puller:s3cret-pull", $"docker://{server.Host}/test/app:1"]);
        Assert.True(good.ExitCode == 0, good.StandardError);
        var wrong = await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", "--cert-dir", certDir, "--creds", "puller:wrong", $"docker://{server.Host}/test/app:1"]);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("unauthorized", wrong.StandardError + wrong.StandardOutput, StringComparison.OrdinalIgnoreCase);

        // An unknown user costs what a known user's wrong password costs (a cost-12 bcrypt check): the time does not
        // tell which names exist.
        async Task<double> SecondsAsync(string credentials)
        {
            var times = new List<double>();
            for (var i = 0; i < 3; i++)
            {
                var run = await ProcessRunner.RunAsync("curl", ["-s", "--cacert", pki.CaFile, "-u", credentials, "-o", "/dev/null", "-w", "%{http_code} %{time_total}", $"https://{server.Host}/v2/"]);
                var parts = run.StandardOutput.Trim().Split(' ');
                Assert.Equal("401", parts[0]);
                times.Add(double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
            }

            return times.Order().ElementAt(1);
        }

        var knownUser = await SecondsAsync("puller:wrong-password");
        var unknownUser = await SecondsAsync("nobody:wrong-password");
        Assert.True(unknownUser >= 0.5 * knownUser, $"unknown user {unknownUser:F3} s, known user with a wrong password {knownUser:F3} s");

        // HTTP/2 over TLS (curl negotiates it with ALPN).
        var curl = await ProcessRunner.RunAsync("curl", ["-sS", "--http2", "--cacert", pki.CaFile, "-u", "puller:s3cret-pull", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", $"https://{server.Host}/v2/test/app/manifests/1"]);
        Assert.Equal("2 200", curl.StandardOutput.Trim());

        // ferry save through it, with the CA and the credentials.
        var fromServe = dir.File("from-serve.tar");
        var save = await FerryCli.RunWithStdinAsync("s3cret-pull", "save", "--cert-dir", certDir, "-u", "puller", "--password-stdin", "-o", fromServe, $"{server.Host}/test/app:1");
        Assert.True(save.ExitCode == 0, save.StandardError);

        Assert.Equal(0, await server.StopAsync());
        Assert.DoesNotContain("s3cret", server.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("cHVsbGVy", server.Log, StringComparison.Ordinal); // base64 of "puller"
        Assert.Contains(" puller GET ", server.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeveralArchives_AreOneRegistry_AndANameAtTwoDigestsIsRefusedAtStartUp()
    {
        using var dir = new TempDirectory();
        var one = dir.File("one.tar");
        var two = dir.File("two.tar");
        (await FerryCli.RunAsync("save", "-o", one, $"{env.Host}/test/app:1")).EnsureSuccess("save one");
        (await FerryCli.RunAsync("save", "--format", "dir", "-o", two, $"{env.Host}/test/oci:1")).EnsureSuccess("save two");
        await using (var server = await FerryServer.StartAsync(one, two))
        {
            using var http = new HttpClient();
            Assert.Equal(["test/app", "test/oci"], Strings(await http.GetStringAsync($"http://{server.Host}/v2/_catalog"), "repositories"));
            Assert.Equal(0, await server.StopAsync());
        }

        // The same name at another digest: test/oci:1 as test/app:1 in another registry (the host is not part of a served name).
        var clash = dir.File("clash.tar");
        await using var other = await RegistryProcess.StartAsync();
        (await FerryCli.RunAsync("load", two, "--as", $"{other.Host}/test/app:1")).EnsureSuccess("load under another name");
        (await FerryCli.RunAsync("save", "-o", clash, $"{other.Host}/test/app:1")).EnsureSuccess("save clash");
        await using var refused = await FerryServer.StartAsync(one, clash);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("test/app:1 is sha256:", refused.Log, StringComparison.Ordinal);
        Assert.Contains("one.tar", refused.Log, StringComparison.Ordinal);
        Assert.Contains("clash.tar", refused.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACompressedBundle_IsSpooledOnceAndSaidSo_AndMaxConnectionsIsACap()
    {
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar.gz");
        (await FerryCli.RunAsync("save", "--compress", "gzip", "-o", bundle, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save --compress gzip");
        await using var server = await FerryServer.StartAsync(bundle, "--max-connections", "1");
        Assert.Contains("gzip-compressed: it was unpacked once to a temporary spool", server.Log, StringComparison.Ordinal);

        // One connection held open takes the only place: another is answered 503 with Retry-After (#24: never a silent
        // close, which clients cannot tell from a broken server) until it closes.
        using (var held = new System.Net.Sockets.TcpClient())
        {
            await held.ConnectAsync(IPAddress.Loopback, server.Port);
            await held.GetStream().WriteAsync("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
            var buffer = new byte[512];
            Assert.True(await held.GetStream().ReadAsync(buffer) > 0);
            using var second = new HttpClient();
            using var refused = await second.GetAsync($"http://{server.Host}/v2/");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(2), refused.Headers.RetryAfter?.Delta);
        }

        await Task.Delay(200);
        using var third = new HttpClient();
        var layer = env.Images["test/app:1"].Layers[1];
        Assert.Equal(layer.Content, await third.GetByteArrayAsync($"http://{server.Host}/v2/test/app/blobs/{layer.Digest}"));
        Assert.Equal(0, await server.StopAsync());
    }

    [Fact]
    public async Task Sigterm_LetsADownloadInProgressFinish_ThenExitsZero()
    {
        using var http = new HttpClient();
        var layer = TestImages.RandomLayer("serve-drain" + Guid.NewGuid().ToString("N"), 24 * 1024 * 1024, docker: false);
        await TestImages.PushImageAsync(http, env.Host, "test/drain", TestImages.Image([layer], docker: false, label: "drain"), "1");
        using var dir = new TempDirectory();
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/drain:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartAsync(bundle);

        using var response = await http.GetAsync($"http://{server.Host}/v2/test/drain/blobs/{layer.Digest}", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var received = new MemoryStream();
        var buffer = new byte[64 * 1024];
        await body.ReadExactlyAsync(buffer);
        received.Write(buffer);
        var stopping = server.StopAsync();
        await Task.Delay(500);
        Assert.False(stopping.IsCompleted, "the server exited with a download in progress");
        await body.CopyToAsync(received);
        Assert.Equal(layer.Content, received.ToArray());
        Assert.Equal(0, await stopping);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync($"http://{server.Host}/v2/"));
    }

    [Fact]
    public async Task ADamagedBlobInTheArchive_IsCutOffMidBody_NeverServedWhole()
    {
        using var dir = new TempDirectory();
        var layout = dir.File("layout");
        (await FerryCli.RunAsync("save", "--format", "dir", "-o", layout, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save --format dir");
        var layer = env.Images["test/app:1"].Layers[0];
        var path = Path.Combine(layout, "blobs", "sha256", layer.Digest["sha256:".Length..]);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xff; // same size, other bytes
        await File.WriteAllBytesAsync(path, bytes);
        await using var server = await FerryServer.StartAsync(layout);

        using var http = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetByteArrayAsync($"http://{server.Host}/v2/test/app/blobs/{layer.Digest}"));
        var skopeo = await ProcessRunner.RunAsync(Components.Require("skopeo", "skopeo"), ["copy", "--src-tls-verify=false", $"docker://{server.Host}/test/app:1", $"dir:{dir.File("copy")}"]);
        Assert.NotEqual(0, skopeo.ExitCode);
        Assert.Equal(0, await server.StopAsync());
    }

    private static async Task<HttpResponseMessage> GetManifestAsync(HttpClient http, string path, string[] accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        foreach (var type in accept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        return await http.SendAsync(request);
    }

    private static async Task ExpectErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(code, body.RootElement.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    private static List<string> Strings(string json, string field) =>
        [.. JsonDocument.Parse(json).RootElement.GetProperty(field).EnumerateArray().Select(e => e.GetString()!)];
}
