using System.Text.Json;
using Ferry.Oci;
using Ferry.Referrers;

namespace Ferry.Signing;

/// <summary>One signature in a cosign signature manifest: a layer holding the payload, its signature annotation, and keyless material when present.</summary>
/// <param name="Payload">The payload layer.</param>
/// <param name="Signature">The base64 signature (<c>dev.cosignproject.cosign/signature</c>), or <see langword="null"/>.</param>
/// <param name="Certificate">The Fulcio certificate (<c>dev.sigstore.cosign/certificate</c>) of a keyless signature, or <see langword="null"/>.</param>
public sealed record CosignSignature(Descriptor Payload, string? Signature, string? Certificate)
{
    /// <summary>The annotation that holds the base64 signature of the payload.</summary>
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";

    /// <summary>The annotation that holds a keyless signature's certificate.</summary>
    public const string CertificateAnnotation = "dev.sigstore.cosign/certificate";

    /// <summary>Whether this is a keyless (Fulcio certificate) signature.</summary>
    public bool IsKeyless => Certificate is not null;

    /// <summary>The signatures of a signature artifact: its simple-signing layers with their annotations.</summary>
    /// <param name="artifact">The artifact.</param>
    /// <returns>The signatures, in layer order.</returns>
    public static IReadOnlyList<CosignSignature> Of(ReferrerArtifact artifact)
    {
        ArgumentNullException.ThrowIfNull(artifact);
        var signatures = new List<CosignSignature>();
        using var document = JsonDocument.Parse(artifact.Manifest.Content);
        if (!document.RootElement.TryGetProperty("layers", out var layers) || layers.ValueKind != JsonValueKind.Array)
        {
            return signatures;
        }

        var i = 0;
        foreach (var layer in layers.EnumerateArray())
        {
            var descriptor = artifact.Manifest.Layers[i++];
            if (descriptor.MediaType != ReferrerArtifact.SimpleSigningMediaType)
            {
                continue;
            }

            var annotations = ManifestDocument.ReadAnnotations(layer);
            signatures.Add(new CosignSignature(descriptor, annotations.GetValueOrDefault(SignatureAnnotation), annotations.GetValueOrDefault(CertificateAnnotation)));
        }

        return signatures;
    }
}
