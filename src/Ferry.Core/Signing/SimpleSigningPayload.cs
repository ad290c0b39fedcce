using System.Text.Json;
using Ferry.References;

namespace Ferry.Signing;

/// <summary>
/// cosign's signed payload ("simple signing"): <c>critical.image.docker-manifest-digest</c> — the manifest the signature
/// vouches for — <c>critical.identity.docker-reference</c> — the name it was signed under — and <c>critical.type</c>.
/// </summary>
/// <param name="ManifestDigest">The signed manifest's digest.</param>
/// <param name="Identity">The signed name.</param>
public sealed record SimpleSigningPayload(Digest ManifestDigest, string Identity)
{
    /// <summary>The one payload type cosign and containers/image write.</summary>
    public const string CosignType = "cosign container image signature";

    /// <summary>The largest payload read (cosign's are a few hundred bytes).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Parses a payload; <see langword="null"/> with a reason when it is not one.</summary>
    /// <param name="json">The payload's bytes.</param>
    /// <param name="reason">Why it is not a payload.</param>
    /// <returns>The payload, or <see langword="null"/>.</returns>
    public static SimpleSigningPayload? TryParse(ReadOnlyMemory<byte> json, out string? reason)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
            var critical = document.RootElement.GetProperty("critical");
            var type = critical.GetProperty("type").GetString();
            if (!string.Equals(type, CosignType, StringComparison.OrdinalIgnoreCase))
            {
                reason = $"the payload's type is \"{type}\", not \"{CosignType}\"";
                return null;
            }

            var digestText = critical.GetProperty("image").GetProperty("docker-manifest-digest").GetString();
            if (!Digest.TryParse(digestText, out var digest))
            {
                reason = "the payload's docker-manifest-digest is not a digest";
                return null;
            }

            reason = null;
            return new SimpleSigningPayload(digest, critical.GetProperty("identity").GetProperty("docker-reference").GetString() ?? string.Empty);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            reason = "the payload is not cosign's simple-signing JSON";
            return null;
        }
    }
}

/// <summary>How strictly a signature's identity (the name it was signed under) must match the image's name.</summary>
public enum IdentityMatch
{
    /// <summary>Same registry and repository, and the same tag when the signature names one (containers' <c>matchRepoDigestOrExact</c>).</summary>
    Exact,

    /// <summary>Same registry and repository; tags are not compared.</summary>
    Repository,

    /// <summary>Not checked: the signed digest alone binds the signature to the image.</summary>
    Any,
}
