using Ferry.Oci;
using Ferry.References;

namespace Ferry.Referrers;

/// <summary>What an artifact attached to an image is, as far as its types and tag tell.</summary>
public enum ArtifactKind
{
    /// <summary>A cosign / sigstore signature (simple-signing payload).</summary>
    Signature,

    /// <summary>An attestation (in-toto statement, DSSE envelope).</summary>
    Attestation,

    /// <summary>A software bill of materials (SPDX, CycloneDX).</summary>
    Sbom,

    /// <summary>Any other artifact.</summary>
    Other,
}

/// <summary>
/// A signature, attestation, SBOM or other artifact that refers to one manifest of an image, kept byte for byte: found
/// through the OCI 1.1 referrers API, its fallback tag schema (<c>sha256-&lt;hex&gt;</c>), or cosign's tags
/// (<c>sha256-&lt;hex&gt;.sig</c>, <c>.att</c>, <c>.sbom</c>). Pushed back under <see cref="Tag"/> when it had one, else by
/// digest as a referrer of <see cref="Subject"/>.
/// </summary>
/// <param name="Manifest">The artifact's manifest with its exact bytes.</param>
/// <param name="Subject">The digest of the manifest it refers to.</param>
/// <param name="Tag">The tag it was found under (cosign's scheme), or <see langword="null"/> for a referrer by digest.</param>
public sealed record ReferrerArtifact(ManifestDocument Manifest, Digest Subject, string? Tag)
{
    /// <summary>The media type of a cosign simple-signing payload.</summary>
    public const string SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";

    /// <summary>The media type of a DSSE envelope (cosign attestations).</summary>
    public const string DsseMediaType = "application/vnd.dsse.envelope.v1+json";

    /// <summary>cosign's tag suffixes, in the order they are looked up.</summary>
    public static IReadOnlyList<string> CosignSuffixes { get; } = ["sig", "att", "sbom"];

    /// <summary>The artifact's type: its <c>artifactType</c>, else its config's media type (OCI 1.1's rule for referrers).</summary>
    public string ArtifactType => Manifest.ArtifactType ?? Manifest.Config?.MediaType ?? Manifest.MediaType;

    /// <summary>What the artifact is.</summary>
    public ArtifactKind Kind
    {
        get
        {
            var type = ArtifactType;
            if (Tag?.EndsWith(".sig", StringComparison.Ordinal) == true || Manifest.Layers.Any(l => l.MediaType == SimpleSigningMediaType))
            {
                return ArtifactKind.Signature;
            }

            if (Tag?.EndsWith(".att", StringComparison.Ordinal) == true || Manifest.Layers.Any(l => l.MediaType == DsseMediaType) ||
                type.Contains("in-toto", StringComparison.OrdinalIgnoreCase) || type.Contains("dsse", StringComparison.OrdinalIgnoreCase))
            {
                return ArtifactKind.Attestation;
            }

            return Tag?.EndsWith(".sbom", StringComparison.Ordinal) == true || type.Contains("spdx", StringComparison.OrdinalIgnoreCase) ||
                   type.Contains("cyclonedx", StringComparison.OrdinalIgnoreCase) || type.Contains("syft", StringComparison.OrdinalIgnoreCase)
                ? ArtifactKind.Sbom
                : ArtifactKind.Other;
        }
    }

    /// <summary>The artifact's blobs: its config and layers.</summary>
    public IEnumerable<Descriptor> Blobs => Manifest.Config is { } config ? Manifest.Layers.Prepend(config) : Manifest.Layers;

    /// <summary>The bytes of the artifact: manifest, config and layers, each once.</summary>
    public long TotalBytes => Blobs.Append(Manifest.Descriptor).DistinctBy(d => d.Digest).Sum(d => d.Size);

    /// <summary>cosign's tag for an artifact of <paramref name="subject"/>: <c>sha256-&lt;hex&gt;.&lt;suffix&gt;</c>.</summary>
    /// <param name="subject">The image manifest's digest.</param>
    /// <param name="suffix"><c>sig</c>, <c>att</c> or <c>sbom</c>.</param>
    /// <returns>The tag.</returns>
    public static string CosignTag(Digest subject, string suffix) => $"{FallbackTag(subject)}.{suffix}";

    /// <summary>The referrers API's fallback tag for <paramref name="subject"/>: <c>sha256-&lt;hex&gt;</c>, an index of its referrers.</summary>
    /// <param name="subject">The image manifest's digest.</param>
    /// <returns>The tag.</returns>
    public static string FallbackTag(Digest subject) => $"{subject.Algorithm}-{subject.Hex}";

    /// <summary>The subject a cosign-style tag names, when <paramref name="tag"/> is one.</summary>
    /// <param name="tag">A tag.</param>
    /// <param name="subject">The digest it names.</param>
    /// <returns>Whether the tag is <c>ALG-HEX.sig|att|sbom</c>.</returns>
    public static bool TryParseCosignTag(string? tag, out Digest subject)
    {
        subject = default;
        var dot = tag?.LastIndexOf('.') ?? -1;
        var dash = tag?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        return dot > 0 && dash > 0 && dash < dot && CosignSuffixes.Contains(tag![(dot + 1)..]) &&
               Digest.TryParse($"{tag[..dash]}:{tag[(dash + 1)..dot]}", out subject);
    }
}

/// <summary>One entry of a referrers list: the artifact manifest's descriptor with its type and annotations.</summary>
/// <param name="Descriptor">The artifact manifest.</param>
/// <param name="ArtifactType">Its artifact type, as the list gives it.</param>
/// <param name="Annotations">Its annotations, as the list gives them.</param>
public sealed record ReferrerDescriptor(Descriptor Descriptor, string? ArtifactType, IReadOnlyDictionary<string, string> Annotations);
