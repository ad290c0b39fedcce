using Ferry.References;

namespace Ferry.Oci;

/// <summary>An OCI content descriptor (image-spec descriptor.md): what a blob is, its digest and size.</summary>
/// <param name="MediaType">The media type of the referenced content.</param>
/// <param name="Digest">The digest of the referenced content.</param>
/// <param name="Size">The exact size in bytes.</param>
/// <param name="Platform">The platform, for entries of an index.</param>
public sealed record Descriptor(string MediaType, Digest Digest, long Size, Platform? Platform = null);
