using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Referrers;
using Ferry.References;
using Ferry.Signing;

namespace Ferry.Core.Tests;

/// <summary>Offline signature checks (#17) on in-memory artifacts: cosign's payload, keys, identity rules, and the archive's artifact entries.</summary>
public sealed class SigningTests : IDisposable
{
    private static readonly Digest Image = Digest.Sha256Of("the image manifest"u8);
    private readonly string _dir = Directory.CreateTempSubdirectory("ferry-signing").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("ec")]
    [InlineData("rsa")]
    public async Task ASignatureByTheKey_OverThePayloadNamingTheDigest_Verifies(string kind)
    {
        using var key = NewKey(kind, out var publicPath);
        using var publicKey = VerificationKey.Load(publicPath);
        var (artifact, payload) = Signature(key, Image, "registry.example:5000/team/app:1");
        var check = await CheckAsync("registry.example:5000/team/app:1", artifact, payload, publicKey);
        Assert.True(check.Verified, check.Detail);
    }

    [Fact]
    public async Task AnotherKey_AMovedSignature_AndAForgedPayload_AreRefused()
    {
        using var key = NewKey("ec", out _);
        using var other = NewKey("ec", out var otherPath);
        using var otherPublic = VerificationKey.Load(otherPath);
        var (artifact, payload) = Signature(key, Image, "registry.example:5000/team/app:1");
        Assert.Contains("is not by", (await CheckAsync("registry.example:5000/team/app:1", artifact, payload, otherPublic)).Detail, StringComparison.Ordinal);

        // A valid signature of another image, attached under this image's tag.
        using var publicKey = VerificationKey.Load(Path.Combine(_dir, "ec-0.pub"));
        var elsewhere = Digest.Sha256Of("another image"u8);
        var (moved, movedPayload) = Signature(key, elsewhere, "registry.example:5000/team/app:1");
        var check = await CheckAsync("registry.example:5000/team/app:1", moved with { Subject = Image }, movedPayload, publicKey);
        Assert.False(check.Verified);
        Assert.Contains("vouches for", check.Detail, StringComparison.Ordinal);

        // The payload's bytes changed after signing.
        var forged = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(payload).Replace("app:1", "app:2", StringComparison.Ordinal));
        Assert.Contains("is not by", (await CheckAsync("registry.example:5000/team/app:1", artifact, forged, publicKey)).Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AKeylessSignature_IsNamedAsSuch_NotPassed()
    {
        using var fulcio = NewKey("ec", out _);
        using var mine = NewKey("ec", out var publicPath);
        using var publicKey = VerificationKey.Load(publicPath);
        var (artifact, payload) = Signature(fulcio, Image, "registry.example:5000/team/app:1", certificate: "-----BEGIN CERTIFICATE-----\nMIIB…\n-----END CERTIFICATE-----\n");
        var check = await CheckAsync("registry.example:5000/team/app:1", artifact, payload, publicKey);
        Assert.False(check.Verified);
        Assert.Contains("keyless (Fulcio) signature", check.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("registry.example:5000/team/app:1", "registry.example:5000/team/app:1", IdentityMatch.Exact, true)]
    [InlineData("registry.example:5000/team/app", "registry.example:5000/team/app:7", IdentityMatch.Exact, true)]
    [InlineData("registry.example:5000/team/app:1", "registry.example:5000/team/app:2", IdentityMatch.Exact, false)]
    [InlineData("registry.example:5000/team/app:1", "registry.example:5000/team/app:2", IdentityMatch.Repository, true)]
    [InlineData("registry.example:5000/team/app:1", "mirror.example/team/app:1", IdentityMatch.Repository, false)]
    [InlineData("registry.example:5000/team/app:1", "mirror.example/team/other:1", IdentityMatch.Any, true)]
    [InlineData("nginx", "docker.io/library/nginx:1.27", IdentityMatch.Exact, true)]
    public void TheSignedName_MatchesTheImagesName_ByTheRule(string identity, string image, IdentityMatch rule, bool matches) =>
        Assert.Equal(matches, ImageSignatureVerifier.IdentityMatches(identity, ImageReference.Parse(image), Image, rule, out _));

    [Fact]
    public void ArtifactEntries_RoundTripThroughIndexJson_AndAForeignTagIsRefused()
    {
        var manifest = new Descriptor(MediaTypes.OciManifest, Digest.Sha256Of("sig"u8), 3);
        var tag = ReferrerArtifact.CosignTag(Image, "sig");
        var json = OciIndexFile.Build([
            new OciIndexEntry(new Descriptor(MediaTypes.OciManifest, Image, 18), "registry.example/app:1"),
            new OciIndexEntry(manifest, null) { Artifact = new ArtifactLink("registry.example/app", Image, tag) },
        ]);
        var entries = OciIndexFile.Read(json, "test");
        Assert.Equal("registry.example/app:1", entries[0].Name);
        Assert.Null(entries[1].Name);
        Assert.Equal(new ArtifactLink("registry.example/app", Image, tag), entries[1].Artifact);

        // A tag that is not cosign's for its subject would be written into a registry URL on load: refused.
        var hostile = Encoding.UTF8.GetString(json).Replace(tag, "../../v2/other/manifests/latest", StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => OciIndexFile.Read(Encoding.UTF8.GetBytes(hostile), "test"));
        var otherSubject = Encoding.UTF8.GetString(json).Replace(tag, ReferrerArtifact.CosignTag(Digest.Sha256Of("x"u8), "sig"), StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => OciIndexFile.Read(Encoding.UTF8.GetBytes(otherSubject), "test"));
    }

    [Fact]
    public void AReferrersIndex_RoundTrips_AndArtifactsAreClassified()
    {
        var entry = new ReferrerDescriptor(new Descriptor(MediaTypes.OciManifest, Digest.Sha256Of("sbom"u8), 4), "application/spdx+json", new Dictionary<string, string> { ["a"] = "b" });
        var read = ReferrersIndex.Read(ReferrersIndex.Build([entry]), "test").Single();
        Assert.Equal(entry.Descriptor, read.Descriptor);
        Assert.Equal(entry.ArtifactType, read.ArtifactType);
        Assert.Equal("b", read.Annotations["a"]);

        Assert.Equal(ArtifactKind.Sbom, Artifact("application/spdx+json", null).Kind);
        Assert.Equal(ArtifactKind.Attestation, Artifact(null, ReferrerArtifact.CosignTag(Image, "att")).Kind);
        Assert.Equal(ArtifactKind.Other, Artifact("application/vnd.example+json", null).Kind);
        Assert.True(ReferrerArtifact.TryParseCosignTag(ReferrerArtifact.CosignTag(Image, "sbom"), out var subject));
        Assert.Equal(Image, subject);
        Assert.False(ReferrerArtifact.TryParseCosignTag("sha256-abc.sig", out _));
    }

    [Fact]
    public void AnEncryptedKey_AskingForHugeScryptMemory_IsRefusedBeforeAnyWork()
    {
        var json = new JsonObject
        {
            ["kdf"] = new JsonObject { ["name"] = "scrypt", ["params"] = new JsonObject { ["N"] = 1 << 30, ["r"] = 8, ["p"] = 1 }, ["salt"] = Convert.ToBase64String(new byte[32]) },
            ["cipher"] = new JsonObject { ["name"] = "nacl/secretbox", ["nonce"] = Convert.ToBase64String(new byte[24]) },
            ["ciphertext"] = Convert.ToBase64String(new byte[64]),
        }.ToJsonString();
        var path = Path.Combine(_dir, "hostile.key");
        File.WriteAllText(path, PemEncoding.WriteString("ENCRYPTED COSIGN PRIVATE KEY", Encoding.UTF8.GetBytes(json)));
        var error = Assert.Throws<InvalidInputException>(() => SigningKey.Load(path, "password"));
        Assert.Contains("unsupported scrypt", error.Message, StringComparison.Ordinal);
        Assert.Contains("public key", Assert.Throws<InvalidInputException>(() => SigningKey.Load(WritePublic(), null)).Message, StringComparison.Ordinal);
    }

    private string WritePublic()
    {
        NewKey("ec", out var path).Dispose();
        return path;
    }

    private static ReferrerArtifact Artifact(string? artifactType, string? tag)
    {
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = "application/vnd.oci.empty.v1+json", ["digest"] = Digest.Sha256Of("{}"u8).ToString(), ["size"] = 2 },
            ["layers"] = new JsonArray(),
        };
        if (artifactType is not null)
        {
            manifest["artifactType"] = artifactType;
        }

        return new ReferrerArtifact(ManifestDocument.Parse(Encoding.UTF8.GetBytes(manifest.ToJsonString()), null, "test"), Image, tag);
    }

    private SigningKey NewKey(string kind, out string publicPath)
    {
        var stem = Path.Combine(_dir, $"{kind}-{Directory.GetFiles(_dir, "*.pem").Length}");
        using AsymmetricAlgorithm algorithm = kind == "ec" ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(2048);
        File.WriteAllText(stem + ".pem", algorithm.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(stem + ".pub", algorithm.ExportSubjectPublicKeyInfoPem());
        publicPath = stem + ".pub";
        return SigningKey.Load(stem + ".pem", null);
    }

    /// <summary>A cosign signature manifest for <paramref name="digest"/>, and its payload.</summary>
    private static (ReferrerArtifact Artifact, byte[] Payload) Signature(SigningKey key, Digest digest, string identity, string? certificate = null)
    {
        var payload = Encoding.UTF8.GetBytes(new JsonObject
        {
            ["critical"] = new JsonObject
            {
                ["identity"] = new JsonObject { ["docker-reference"] = identity },
                ["image"] = new JsonObject { ["docker-manifest-digest"] = digest.ToString() },
                ["type"] = "cosign container image signature",
            },
            ["optional"] = null,
        }.ToJsonString());
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new JsonObject { ["mediaType"] = MediaTypes.OciConfig, ["digest"] = Digest.Sha256Of("{}"u8).ToString(), ["size"] = 2 },
            ["layers"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = ReferrerArtifact.SimpleSigningMediaType,
                ["digest"] = Digest.Sha256Of(payload).ToString(),
                ["size"] = payload.Length,
                ["annotations"] = certificate is null
                    ? new JsonObject { [CosignSignature.SignatureAnnotation] = Convert.ToBase64String(key.Sign(payload)) }
                    : new JsonObject { [CosignSignature.SignatureAnnotation] = Convert.ToBase64String(key.Sign(payload)), [CosignSignature.CertificateAnnotation] = certificate },
            }),
        };
        var document = ManifestDocument.Parse(Encoding.UTF8.GetBytes(manifest.ToJsonString()), null, "test");
        return (new ReferrerArtifact(document, digest, ReferrerArtifact.CosignTag(digest, "sig")), payload);
    }

    private static Task<ImageSignatureCheck> CheckAsync(string name, ReferrerArtifact artifact, byte[] payload, VerificationKey key) =>
        ImageSignatureVerifier.CheckAsync(ImageReference.Parse(name), Image, [], [artifact], (_, _) => Task.FromResult(payload), new SignaturePolicy(key), CancellationToken.None);
}
