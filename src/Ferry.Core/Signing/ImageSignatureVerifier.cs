using Ferry.Oci;
using Ferry.Referrers;
using Ferry.References;

namespace Ferry.Signing;

/// <summary>What a signature check found for one image.</summary>
/// <param name="Image">The image's name (or digest when unnamed).</param>
/// <param name="Digest">The digest of its top manifest.</param>
/// <param name="Verified">Whether a signature by the key vouches for it.</param>
/// <param name="Detail">How it was verified, or why not.</param>
public sealed record ImageSignatureCheck(string Image, Digest Digest, bool Verified, string Detail);

/// <summary>Which signatures count: the key, and how the signed name must match.</summary>
/// <param name="Key">The public key.</param>
/// <param name="Identity">How strictly the signed name must match the image's.</param>
public sealed record SignaturePolicy(VerificationKey Key, IdentityMatch Identity = IdentityMatch.Exact);

/// <summary>
/// Checks cosign signatures offline, the way <c>cosign verify --key</c> does: the signature over the payload with the
/// key first (nothing of an unverified payload is trusted), then the payload's <c>docker-manifest-digest</c> against the
/// image's manifest, then its <c>docker-reference</c> against the image's name. An image verifies when its top manifest
/// is signed — or, for an index, when every platform manifest it holds is.
/// </summary>
public static class ImageSignatureVerifier
{
    /// <summary>Checks one image.</summary>
    /// <param name="name">The image's name, or <see langword="null"/> when unnamed.</param>
    /// <param name="top">The digest of its top manifest.</param>
    /// <param name="platformManifests">For an index: the digests of the image manifests it holds; empty for a single manifest.</param>
    /// <param name="artifacts">The artifacts carried with it.</param>
    /// <param name="read">Reads a payload blob, verified.</param>
    /// <param name="policy">The key and identity rule.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The outcome.</returns>
    public static async Task<ImageSignatureCheck> CheckAsync(ImageReference? name, Digest top, IReadOnlyList<Digest> platformManifests, IReadOnlyList<ReferrerArtifact> artifacts, Func<Descriptor, CancellationToken, Task<byte[]>> read, SignaturePolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(artifacts);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(policy);
        var shown = name?.ToString() ?? top.ToString();
        var reasons = new List<string>();
        if (await CheckSubjectAsync(top).ConfigureAwait(false) is { } how)
        {
            return new ImageSignatureCheck(shown, top, true, how);
        }

        if (platformManifests.Count > 0)
        {
            var each = new List<string>();
            foreach (var platform in platformManifests)
            {
                if (await CheckSubjectAsync(platform).ConfigureAwait(false) is not { } platformHow)
                {
                    return new ImageSignatureCheck(shown, top, false, reasons[^1]);
                }

                each.Add(platformHow);
            }

            return new ImageSignatureCheck(shown, top, true, $"each of its {platformManifests.Count} platform manifest(s) {each[0]}");
        }

        return new ImageSignatureCheck(shown, top, false, reasons[0]);

        async Task<string?> CheckSubjectAsync(Digest subject)
        {
            var signatures = artifacts.Where(a => a.Subject == subject && a.Kind == ArtifactKind.Signature).SelectMany(CosignSignature.Of).ToList();
            if (signatures.Count == 0)
            {
                reasons.Add($"no signature for {subject.Short}");
                return null;
            }

            foreach (var signature in signatures)
            {
                if (await CheckOneAsync(signature, subject).ConfigureAwait(false) is { } ok)
                {
                    return ok;
                }
            }

            return null;
        }

        async Task<string?> CheckOneAsync(CosignSignature signature, Digest subject)
        {
            if (signature.Signature is null || signature.Payload.Size > SimpleSigningPayload.MaxBytes)
            {
                reasons.Add($"signature layer {signature.Payload.Digest.Short} has no {CosignSignature.SignatureAnnotation} annotation, or an oversized payload");
                return null;
            }

            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(signature.Signature);
            }
            catch (FormatException)
            {
                reasons.Add($"signature of {subject.Short} is not base64");
                return null;
            }

            var payload = await read(signature.Payload, cancellationToken).ConfigureAwait(false);
            if (!policy.Key.Verify(payload, bytes))
            {
                reasons.Add(signature.IsKeyless
                    ? $"{subject.Short} carries a keyless (Fulcio) signature: checking it offline needs Fulcio's root certificate and Rekor's public key, which Ferry does not take; sign with a key (cosign sign --key) to verify offline"
                    : $"the signature of {subject.Short} is not by {policy.Key.Path}");
                return null;
            }

            if (SimpleSigningPayload.TryParse(payload, out var why) is not { } parsed)
            {
                reasons.Add($"{subject.Short}: {why}");
                return null;
            }

            if (parsed.ManifestDigest != subject)
            {
                reasons.Add($"a signature by the key found with {subject.Short} vouches for {parsed.ManifestDigest.Short} instead (moved from another image?)");
                return null;
            }

            if (!IdentityMatches(parsed.Identity, name, subject, policy.Identity, out var mismatch))
            {
                reasons.Add(mismatch!);
                return null;
            }

            return $"signed by {policy.Key.Path} as {parsed.Identity}";
        }
    }

    /// <summary>Whether the signed name fits the image's name under <paramref name="rule"/>.</summary>
    /// <param name="identity">The payload's docker-reference.</param>
    /// <param name="name">The image's name.</param>
    /// <param name="subject">The signed digest.</param>
    /// <param name="rule">The rule.</param>
    /// <param name="why">Why not.</param>
    /// <returns>Whether it matches.</returns>
    public static bool IdentityMatches(string identity, ImageReference? name, Digest subject, IdentityMatch rule, out string? why)
    {
        ArgumentNullException.ThrowIfNull(identity);
        why = null;
        if (rule == IdentityMatch.Any)
        {
            return true;
        }

        if (name is null)
        {
            why = $"the image has no name to check the signature's identity ({identity}) against (Identity: Any skips it)";
            return false;
        }

        if (!ImageReference.TryParse(identity, out var signed, out _))
        {
            why = $"the signature's identity \"{identity}\" is not an image reference";
            return false;
        }

        if (signed!.Name != name.Name)
        {
            why = $"signed as {identity}, but the image is {name} (Identity: Any accepts another name)";
            return false;
        }

        var withoutDigest = identity.Split('@')[0];
        var explicitTag = withoutDigest.LastIndexOf(':') > withoutDigest.LastIndexOf('/');
        if (rule == IdentityMatch.Exact && ((explicitTag && signed.Tag != name.Tag) || (signed.Digest is { } d && d != subject)))
        {
            why = $"signed as {identity}, but the image is {name} (Identity: Repository ignores the tag)";
            return false;
        }

        return true;
    }
}
