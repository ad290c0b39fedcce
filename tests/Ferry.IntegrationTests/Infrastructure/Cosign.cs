namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>A cosign-format key pair made by <c>Scripts/cosign_keys.py</c>.</summary>
/// <param name="PrivateKey">The encrypted cosign.key.</param>
/// <param name="PublicKey">cosign.pub.</param>
/// <param name="PlainKey">The same private key, unencrypted (the test signer's input).</param>
/// <param name="Password">The password of <paramref name="PrivateKey"/>.</param>
internal sealed record CosignKeyPair(string PrivateKey, string PublicKey, string PlainKey, string Password);

/// <summary>
/// The tests' independent cosign: key pairs and image signatures in cosign's formats, made by Python scripts on
/// Debian's python3-cryptography and python3-nacl. Debian's skopeo 1.9 and podman 4.3 would be the natural signers,
/// but Debian builds them with sigstore disabled ("Debian-local change: sigstore disabled") for signing and for
/// policy checks alike; they still copy sigstore attachments, which the tests use to read what Ferry loaded.
/// </summary>
internal static class Cosign
{
    public const string Python = "/usr/bin/python3";

    public static async Task<CosignKeyPair> GenerateAsync(string directory, string name, string password = "correct horse", string kind = "ec")
    {
        RequirePython();
        var stem = Path.Combine(directory, name);
        (await ProcessRunner.RunAsync(Python, [Script("cosign_keys.py"), stem, password, kind])).EnsureSuccess("cosign_keys.py");
        return new CosignKeyPair(stem + ".key", stem + ".pub", stem + ".plain.pem", password);
    }

    /// <summary>Signs <paramref name="digest"/> in a registry as cosign does; returns the signature's tag.</summary>
    public static async Task<string> SignAsync(string registry, string repository, string digest, string identity, CosignKeyPair key)
    {
        var result = (await ProcessRunner.RunAsync(Python, [Script("cosign_sign.py"), registry, repository, digest, identity, key.PlainKey])).EnsureSuccess("cosign_sign.py");
        return result.StandardOutput.Trim();
    }

    private static string Script(string name) => Path.Combine(AppContext.BaseDirectory, "Scripts", name);

    private static void RequirePython()
    {
        if (!File.Exists(Python) || !Directory.Exists("/usr/lib/python3/dist-packages/nacl") || !Directory.Exists("/usr/lib/python3/dist-packages/cryptography"))
        {
            throw new InvalidOperationException("the signature tests need Debian's python3 with python3-nacl and python3-cryptography: apt-get install python3-nacl python3-cryptography");
        }
    }
}
