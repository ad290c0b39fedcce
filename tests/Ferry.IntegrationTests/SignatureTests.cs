using System.Text;
using System.Text.Json;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Signatures travel with their images and are checked offline (#17): images signed in the real registry in cosign's
/// format (by the tests' own Python signer: Debian's skopeo and podman have sigstore disabled), saved, verified with the
/// public key, loaded with <c>--require-signature</c>, and read back at the target by skopeo (which copies sigstore
/// attachments) with the signature checked by openssl — nothing of Ferry's in that last check.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SignatureTests(RealComponentsFixture env)
{
    [Fact]
    public async Task ASignedImage_IsSavedWithItsSignature_VerifiedOffline_AndLoadedSignatureAfterImage()
    {
        using var dir = new TempDirectory();
        var key = await Cosign.GenerateAsync(dir.Path, "cosign");
        var other = await Cosign.GenerateAsync(dir.Path, "other");
        var signed = await PushAsync("sig/app", "1", "signed");
        var plain = await PushAsync("sig/plain", "1", "plain");
        var tag = await Cosign.SignAsync(env.Host, "sig/app", signed, $"{env.Host}/sig/app:1", key);
        Assert.Equal($"sha256-{signed[7..]}.sig", tag);

        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-q", "-o", bundle, $"{env.Host}/sig/app:1", $"{env.Host}/sig/plain:1")).EnsureSuccess("ferry save");

        // inspect names the signature, with the tag it goes back under.
        var inspect = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", bundle)).EnsureSuccess("ferry inspect").StandardOutput).RootElement;
        var artifacts = inspect.GetProperty("images")[0].GetProperty("artifacts");
        Assert.Equal(1, artifacts.GetArrayLength());
        Assert.Equal("signature", artifacts[0].GetProperty("kind").GetString());
        Assert.Equal(tag, artifacts[0].GetProperty("tag").GetString());
        Assert.Equal(0, inspect.GetProperty("images")[1].GetProperty("artifacts").GetArrayLength());

        // verify --key: the signed image verifies; the unsigned one is named; another key verifies nothing.
        var verify = await FerryCli.RunAsync("verify", bundle, "--key", key.PublicKey);
        Assert.Equal(1, verify.ExitCode);
        Assert.Contains($"{env.Host}/sig/app:1\t{signed}\tverified: signed by", verify.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{env.Host}/sig/plain:1\t{plain}\tNOT VERIFIED: no signature", verify.StandardOutput, StringComparison.Ordinal);
        var wrong = await FerryCli.RunAsync("verify", bundle, "--key", other.PublicKey);
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("is not by", wrong.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(0, (await FerryCli.RunAsync("verify", bundle)).ExitCode);

        // load --require-signature: the unsigned image is refused before anything is pushed; the signed one goes,
        // its signature after it.
        await using var target = await RegistryProcess.StartAsync();
        await using var proxy = await CountingProxy.StartAsync(target.Host);
        var load = await FerryCli.RunAsync("load", bundle, "--to", proxy.Host, "--require-signature", "--key", key.PublicKey, "--failed", dir.File("failed.txt"));
        Assert.NotEqual(0, load.ExitCode);
        Assert.Contains("sig/plain:1: refused, no valid signature by", load.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(proxy.Requests, r => r.Path.Contains("/sig/plain/", StringComparison.Ordinal) && r.Method is "PUT" or "POST" or "PATCH");
        var puts = proxy.Requests.Where(r => r.Method == "PUT" && r.Path.Contains("/sig/app/manifests/", StringComparison.Ordinal)).Select(r => r.Path).ToList();
        Assert.Equal(["/v2/sig/app/manifests/1", $"/v2/sig/app/manifests/{tag}"], puts);

        // ferry serve lists the signature's tag and serves it: skopeo copies it from there too.
        await using (var served = await FerryServer.StartAsync(bundle))
        {
            Assert.Contains("serving 2 image(s) in 2 repositories", served.Log, StringComparison.Ordinal); // the signature's tag is not an image
            var fromServe = await ReadSignatureWithSkopeoAsync(dir, served.Host, "sig/app:1", "from-serve");
            Assert.Contains(signed, fromServe.Payload, StringComparison.Ordinal);
        }

        // At the target, skopeo finds the signature where cosign looks (it copies sigstore attachments), and openssl
        // checks it with the public key: the payload names the image's digest.
        var attachment = await ReadSignatureWithSkopeoAsync(dir, target.Host, "sig/app:1");
        Assert.Contains(signed, attachment.Payload, StringComparison.Ordinal);
        Assert.True(await OpensslVerifiesAsync(dir, key.PublicKey, Encoding.UTF8.GetBytes(attachment.Payload), attachment.Signature));
        Assert.False(await OpensslVerifiesAsync(dir, other.PublicKey, Encoding.UTF8.GetBytes(attachment.Payload), attachment.Signature));
    }

    [Fact]
    public async Task ASignedBundle_VouchesForUnsignedImages_OpensslAgrees_AndATamperedIndexFails()
    {
        using var dir = new TempDirectory();
        var key = await Cosign.GenerateAsync(dir.Path, "cosign");
        var other = await Cosign.GenerateAsync(dir.Path, "other");
        await PushAsync("sig/bundled", "1", "bundled");
        var password = new Dictionary<string, string> { ["COSIGN_PASSWORD"] = key.Password };

        // A wrong password: one line, no archive.
        var bundle = dir.File("bundle.tar");
        var refused = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["COSIGN_PASSWORD"] = "nope" }, "save", "-q", "-o", bundle, "--sign-key", key.PrivateKey, $"{env.Host}/sig/bundled:1");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("wrong password", refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", refused.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(bundle));

        (await FerryCli.RunWithEnvironmentAsync(password, "save", "-q", "-o", bundle, "--sign-key", key.PrivateKey, $"{env.Host}/sig/bundled:1")).EnsureSuccess("ferry save --sign-key");
        var verify = (await FerryCli.RunAsync("verify", bundle, "--key", key.PublicKey)).EnsureSuccess("ferry verify --key");
        Assert.Contains("verified: vouched for by the bundle's signature", verify.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("the bundle's signature verifies", verify.StandardError, StringComparison.Ordinal);
        Assert.Equal(1, (await FerryCli.RunAsync("verify", bundle, "--key", other.PublicKey)).ExitCode);

        // openssl checks the detached signature as cosign verify-blob would: index.json.sig over index.json.
        var tar = Components.Require("tar", "tar");
        (await ProcessRunner.RunAsync(tar, ["-xf", bundle, "-C", dir.Path, "index.json", "index.json.sig"])).EnsureSuccess("tar -x");
        var signature = Convert.FromBase64String(await File.ReadAllTextAsync(dir.File("index.json.sig")));
        Assert.True(await OpensslVerifiesAsync(dir, key.PublicKey, await File.ReadAllBytesAsync(dir.File("index.json")), signature));

        // load --require-signature takes the bundle's word for an image with no signature of its own.
        await using var target = await RegistryProcess.StartAsync();
        (await FerryCli.RunAsync("load", bundle, "--to", target.Host, "--require-signature", "--key", key.PublicKey)).EnsureSuccess("ferry load --require-signature");

        // A directory bundle whose index.json changed after signing fails, before anything else.
        var layout = dir.File("layout");
        (await FerryCli.RunWithEnvironmentAsync(password, "save", "-q", "--format", "dir", "-o", layout, "--sign-key", key.PrivateKey, $"{env.Host}/sig/bundled:1")).EnsureSuccess("ferry save --format dir --sign-key");
        var index = Path.Combine(layout, "index.json");
        await File.WriteAllTextAsync(index, (await File.ReadAllTextAsync(index)) + " ");
        var tampered = await FerryCli.RunAsync("verify", layout, "--key", key.PublicKey);
        Assert.Equal(1, tampered.ExitCode);
        Assert.StartsWith($"ferry: {layout}: index.json.sig: the bundle's signature does not verify", tampered.StandardError, StringComparison.Ordinal);

        // ferry sign adds the signature afterwards, once.
        var unsigned = dir.File("unsigned.tar");
        (await FerryCli.RunAsync("save", "-q", "-o", unsigned, $"{env.Host}/sig/bundled:1")).EnsureSuccess("ferry save");
        Assert.Equal(1, (await FerryCli.RunAsync("verify", unsigned, "--key", key.PublicKey)).ExitCode);
        (await FerryCli.RunWithEnvironmentAsync(password, "sign", unsigned, "--key", key.PrivateKey)).EnsureSuccess("ferry sign");
        (await FerryCli.RunAsync("verify", unsigned, "--key", key.PublicKey)).EnsureSuccess("ferry verify after ferry sign");
        (await ProcessRunner.RunAsync(tar, ["-tf", unsigned])).EnsureSuccess("tar -t reads the signed archive");
        var again = await FerryCli.RunWithEnvironmentAsync(password, "sign", unsigned, "--key", key.PrivateKey);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("signed already", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnRsaSignature_Verifies_AndTheIdentityRuleIsEnforced()
    {
        using var dir = new TempDirectory();
        var key = await Cosign.GenerateAsync(dir.Path, "rsa", kind: "rsa");
        var digest = await PushAsync("sig/rsa", "2", "rsa");
        await Cosign.SignAsync(env.Host, "sig/rsa", digest, $"{env.Host}/sig/rsa:1", key);
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-q", "-o", bundle, $"{env.Host}/sig/rsa:2")).EnsureSuccess("ferry save");

        // Signed as tag 1, saved as tag 2: refused exactly, accepted by repository.
        var exact = await FerryCli.RunAsync("verify", bundle, "--key", key.PublicKey);
        Assert.Equal(1, exact.ExitCode);
        Assert.Contains($"signed as {env.Host}/sig/rsa:1, but the image is {env.Host}/sig/rsa:2", exact.StandardOutput, StringComparison.Ordinal);
        (await FerryCli.RunAsync("verify", bundle, "--key", key.PublicKey, "--identity", "repository")).EnsureSuccess("ferry verify --identity repository");

        // Half of the pair is a mistake named in one line, not a silent unchecked load.
        var noKey = await FerryCli.RunAsync("load", bundle, "--to", env.Host, "--require-signature");
        Assert.NotEqual(0, noKey.ExitCode);
        Assert.Equal("ferry: error: --require-signature needs --key PUBLIC-KEY (cosign.pub)", noKey.StandardError.Trim());
        var keyAlone = await FerryCli.RunAsync("load", bundle, "--daemon", "--key", key.PublicKey);
        Assert.NotEqual(0, keyAlone.ExitCode);
        Assert.Contains("--key is for --require-signature", keyAlone.StandardError, StringComparison.Ordinal);

        // ferry copy carries the signature too (and --no-referrers does not).
        await using var target = await RegistryProcess.StartAsync();
        (await FerryCli.RunAsync("copy", $"{env.Host}/sig/rsa:2", "--to", target.Host)).EnsureSuccess("ferry copy");
        (await FerryCli.RunAsync("copy", "--no-referrers", $"{env.Host}/sig/rsa:2", "--to", $"{target.Host}/bare")).EnsureSuccess("ferry copy --no-referrers");
        using var http = new HttpClient();
        Assert.Contains($"sha256-{digest[7..]}.sig", await http.GetStringAsync($"http://{target.Host}/v2/sig/rsa/tags/list"), StringComparison.Ordinal);
        Assert.DoesNotContain(".sig", await http.GetStringAsync($"http://{target.Host}/v2/bare/sig/rsa/tags/list"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABundleCarryingASignature_IsStillReadByDockerPodmanSkopeoCtrUmociAndOciImageTool()
    {
        using var dir = new TempDirectory();
        var key = await Cosign.GenerateAsync(dir.Path, "cosign");
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.BusyboxLayer(docker: false)], docker: false, label: "readers");
        await TestImages.PushImageAsync(http, env.Host, "sig/readers", image, "1");
        await Cosign.SignAsync(env.Host, "sig/readers", image.Manifest.Digest, $"{env.Host}/sig/readers:1", key);
        var name = $"{env.Host}/sig/readers:1";
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-q", "-o", bundle, name)).EnsureSuccess("ferry save");
        var layout = dir.File("layout");
        (await FerryCli.RunAsync("save", "-q", "--format", "dir", "-o", layout, name)).EnsureSuccess("ferry save --format dir");
        Assert.Contains("dev.ferry.artifact.tag", await File.ReadAllTextAsync(Path.Combine(layout, "index.json")), StringComparison.Ordinal);

        // docker load reads manifest.json, which lists the image alone.
        var loaded = (await env.Docker.DockerAsync("load", "-i", bundle)).EnsureSuccess("docker load");
        Assert.Contains(name, loaded.StandardOutput, StringComparison.Ordinal);
        (await env.Docker.DockerAsync("rmi", name)).EnsureSuccess("docker rmi");

        var podman = Components.Require("podman", "podman");
        string[] store = ["--root", dir.File("root"), "--runroot", dir.File("runroot"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"];
        (await ProcessRunner.RunAsync(podman, [.. store, "load", "-i", bundle])).EnsureSuccess("podman load");
        var listed = (await ProcessRunner.RunAsync(podman, [.. store, "images", "--format", "{{.Repository}}:{{.Tag}}"])).EnsureSuccess("podman images").StandardOutput;
        Assert.Equal([name], listed.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var skopeo = Components.Require("skopeo", "skopeo");
        var raw = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", $"oci-archive:{bundle}:{name}"])).EnsureSuccess("skopeo inspect oci-archive");
        Assert.Equal(image.Manifest.Content, Encoding.UTF8.GetBytes(raw.StandardOutput));

        await using (var containerd = await Containerd.StartAsync(dir.File("containerd")))
        {
            (await containerd.CtrAsync("images", "import", bundle)).EnsureSuccess("ctr images import");
            var images = (await containerd.CtrAsync("images", "ls", "-q")).EnsureSuccess("ctr images ls").StandardOutput;
            Assert.Equal([name], images.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }

        var umoci = (await ProcessRunner.RunAsync(Components.Require("umoci", "umoci"), ["ls", "--layout", layout])).EnsureSuccess("umoci ls");
        Assert.Equal([name], umoci.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var validate = await ProcessRunner.RunAsync(Components.Require("oci-image-tool", "oci-image-tool"), ["validate", "--type", "image", "--ref", $"name={name}", layout]);
        Assert.True(validate.ExitCode == 0, validate.StandardError + validate.StandardOutput);
    }

    /// <summary>Bulk mode: an image that fails after discovery began does not take its repository's other images' artifacts with it.</summary>
    [Fact]
    public async Task InBulkMode_AFailingImage_LeavesTheSignaturesOfItsRepositorysOtherImages()
    {
        using var dir = new TempDirectory();
        var key = await Cosign.GenerateAsync(dir.Path, "cosign");
        using var http = new HttpClient();
        var amd64 = TestImages.Image([TestImages.RandomLayer("bulk-amd64", 2048, docker: false)], docker: false, label: "bulk");
        var arm64 = TestImages.Image([TestImages.RandomLayer("bulk-arm64", 2048, docker: false)], docker: false, architecture: "arm64", label: "bulk");
        await TestImages.PushImageAsync(http, env.Host, "sig/bulk", amd64, "amd64-only");
        await TestImages.PushImageAsync(http, env.Host, "sig/bulk", arm64, null);
        var index = TestImages.Index([amd64, arm64], docker: false);
        await TestImages.PushManifestAsync(http, env.Host, "sig/bulk", index, "multi");
        await Cosign.SignAsync(env.Host, "sig/bulk", index.Digest, $"{env.Host}/sig/bulk:multi", key);
        await File.WriteAllLinesAsync(dir.File("images.txt"), [$"{env.Host}/sig/bulk:amd64-only", $"{env.Host}/sig/bulk:multi"]);

        var bundle = dir.File("bundle.tar");
        var result = await FerryCli.RunAsync("save", "-f", dir.File("images.txt"), "-a", "amd64,arm64", "-o", bundle, "--failed", dir.File("failed.txt"));
        Assert.True(result.ExitCode == 0, result.StandardError);
        var check = await FerryCli.RunAsync("verify", bundle, "--key", key.PublicKey);
        Assert.Contains($"{env.Host}/sig/bulk:multi\t{index.Digest}\tverified", check.StandardOutput, StringComparison.Ordinal);

        // Only arm64 selected: the amd64-only image fails once its platform is known, after its discovery began.
        var arm = dir.File("arm.tar");
        var partial = await FerryCli.RunAsync("save", "-f", dir.File("images.txt"), "-a", "arm64", "-o", arm, "--failed", dir.File("failed-arm.txt"));
        Assert.NotEqual(0, partial.ExitCode);
        Assert.Contains("sig/bulk:amd64-only", await File.ReadAllTextAsync(dir.File("failed-arm.txt")), StringComparison.Ordinal);

        // The signed index cannot vouch for the arm64-only subset Ferry writes: the save says so.
        Assert.Contains($"sig/bulk:multi: its index {index.Digest} is signed (sha256-{index.Digest[7..]}.sig), but only some of its platforms are saved", partial.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("only some of its platforms", result.StandardError, StringComparison.Ordinal);
        var inspect = JsonDocument.Parse((await FerryCli.RunAsync("inspect", "--json", arm)).EnsureSuccess("ferry inspect").StandardOutput).RootElement;
        Assert.Equal($"{env.Host}/sig/bulk:multi", inspect.GetProperty("images").EnumerateArray().Single().GetProperty("name").GetString());
    }

    private async Task<string> PushAsync(string repository, string tag, string seed)
    {
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.RandomLayer(seed, 2048, docker: false)], docker: false, label: seed);
        await TestImages.PushImageAsync(http, env.Host, repository, image, tag);
        return image.Manifest.Digest;
    }

    /// <summary>skopeo copies the image with its sigstore attachment into a dir: and writes the attachment as signature-1.</summary>
    private static async Task<(string Payload, byte[] Signature)> ReadSignatureWithSkopeoAsync(TempDirectory dir, string registry, string image, string copy = "copied")
    {
        var registriesD = dir.File("registries-" + copy);
        Directory.CreateDirectory(registriesD);
        await File.WriteAllTextAsync(Path.Combine(registriesD, "ferry-test.yaml"), $"docker:\n  {registry}:\n    use-sigstore-attachments: true\n");
        var policy = dir.File("policy.json");
        await File.WriteAllTextAsync(policy, """{"default":[{"type":"insecureAcceptAnything"}]}""");
        var output = dir.File(copy);
        (await ProcessRunner.RunAsync(Components.Require("skopeo", "skopeo"), ["copy", "--src-tls-verify=false", "--policy", policy, "--registries.d", registriesD, $"docker://{registry}/{image}", $"dir:{output}"])).EnsureSuccess("skopeo copy");
        var stored = await File.ReadAllBytesAsync(Path.Combine(output, "signature-1"));
        var json = JsonDocument.Parse(stored.AsMemory(stored.AsSpan().IndexOf((byte)'{'))).RootElement;
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(json.GetProperty("payload").GetString()!));
        var signature = Convert.FromBase64String(json.GetProperty("annotations").GetProperty("dev.cosignproject.cosign/signature").GetString()!);
        return (payload, signature);
    }

    private static async Task<bool> OpensslVerifiesAsync(TempDirectory dir, string publicKey, byte[] data, byte[] signature)
    {
        var name = Guid.NewGuid().ToString("N");
        await File.WriteAllBytesAsync(dir.File(name + ".data"), data);
        await File.WriteAllBytesAsync(dir.File(name + ".sig"), signature);
        var result = await ProcessRunner.RunAsync(Components.Require("openssl", "openssl"), ["dgst", "-sha256", "-verify", publicKey, "-signature", dir.File(name + ".sig"), dir.File(name + ".data")]);
        return result.ExitCode == 0 && result.StandardOutput.Contains("Verified OK", StringComparison.Ordinal);
    }
}
