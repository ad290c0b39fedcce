using Ferry.Oci;
using Ferry.References;

namespace Ferry.Transfer;

/// <summary>
/// One blob of a transfer: its descriptor, and either its bytes (manifests, configs, indexes — small,
/// already verified) or the image it is to be fetched from (layers).
/// </summary>
/// <param name="Descriptor">The blob's descriptor.</param>
/// <param name="Content">The bytes, when held in memory.</param>
/// <param name="Source">The image whose repository serves the blob, when it is fetched.</param>
public sealed record TransferBlob(Descriptor Descriptor, ReadOnlyMemory<byte>? Content, ImageReference? Source)
{
    /// <summary>The blob's path in the layout, <c>blobs/sha256/&lt;hex&gt;</c>.</summary>
    public string Path => Descriptor.Digest.LayoutPath;
}
