using Ferry.Archives.Format;
using Ferry.Reading;
using Ferry.References;
using Ferry.Referrers;
using Ferry.Signing;

namespace Ferry.Signing;

/// <summary>The state of a bundle's own signature.</summary>
public enum BundleSignatureState
{
    /// <summary>No key was given.</summary>
    NotChecked,

    /// <summary>The bundle carries no <c>index.json.sig</c>.</summary>
    Absent,

    /// <summary>It verifies with the key: it vouches for every image.</summary>
    Valid,

    /// <summary>It does not verify with the key.</summary>
    Invalid,
}

/// <summary>The signature checks on an archive that verify and load share: the bundle's own, and one image's.</summary>
internal static class ArchiveSignatures
{
    /// <summary>Whether the archive carries <c>index.json.sig</c>, and whether it verifies with the key.</summary>
    public static async Task<BundleSignatureState> BundleAsync(ImageArchive archive, VerificationKey key, CancellationToken cancellationToken)
    {
        if (!archive.File.Contains(BundleSignature.FileName))
        {
            return BundleSignatureState.Absent;
        }

        var index = await archive.File.ReadSmallAsync(OciIndexFile.FileName, ImageArchiveReader.MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        var signature = await archive.File.ReadSmallAsync(BundleSignature.FileName, 64 * 1024, cancellationToken).ConfigureAwait(false);
        return BundleSignature.Verify(index, signature, key) ? BundleSignatureState.Valid : BundleSignatureState.Invalid;
    }

    /// <summary>One image's own cosign signatures, their payloads read from the archive.</summary>
    public static Task<ImageSignatureCheck> ImageAsync(ImageArchive archive, string? name, Digest top, IReadOnlyList<Digest> platforms, IReadOnlyList<ReferrerArtifact> artifacts, SignaturePolicy policy, CancellationToken cancellationToken) =>
        ImageSignatureVerifier.CheckAsync(
            name is not null && ImageReference.TryParse(name, out var parsed, out _) ? parsed : null,
            top,
            platforms,
            artifacts,
            (descriptor, token) => archive.ReadSmallBlobAsync(descriptor, SimpleSigningPayload.MaxBytes, token),
            policy,
            cancellationToken);
}
