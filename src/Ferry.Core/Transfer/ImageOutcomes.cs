using Ferry.References;

namespace Ferry.Transfer;

/// <summary>An image that could not be saved (bulk mode).</summary>
/// <param name="Image">The image as requested.</param>
/// <param name="Position">Its 1-based position in the request.</param>
/// <param name="Reason">One line saying why.</param>
public sealed record FailedImage(string Image, int Position, string Reason);

/// <summary>The result for one saved image.</summary>
/// <param name="Reference">The normalised reference.</param>
/// <param name="Digest">The digest of what index.json points at (the index or the manifest).</param>
/// <param name="Platforms">The platforms saved.</param>
/// <param name="Bytes">The size of the image's blobs.</param>
/// <param name="IsSubsetIndex">Whether a subset index replaced the registry's index.</param>
public sealed record SavedImage(ImageReference Reference, Digest Digest, IReadOnlyList<Platform> Platforms, long Bytes, bool IsSubsetIndex)
{
    /// <summary><c>docker.io/library/nginx:1.27@sha256:0123456789ab [linux/amd64, linux/arm64/v8] 61234567 bytes</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Reference}@{Digest.Short} [{string.Join(", ", Platforms)}] {Bytes} bytes{(IsSubsetIndex ? " (subset index)" : string.Empty)}";
}
