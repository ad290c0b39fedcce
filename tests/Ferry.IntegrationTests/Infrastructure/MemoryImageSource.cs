using Ferry.Content;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A test-only source: images held in memory by name (top manifest or index) and blobs by digest. It is what a new
/// source costs — this one class, plus one <see cref="ImageTransport"/> registration — and every destination, platform
/// rule and bulk behaviour of the engine comes with it.
/// </summary>
internal sealed class MemoryImageSource : IImageSource
{
    private readonly Dictionary<string, (byte[] Bytes, string MediaType)> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<Digest, byte[]> _blobs = [];

    public int BlobsOpened { get; private set; }

    public void Put(byte[] blob) => _blobs[Digest.Sha256Of(blob)] = blob;

    public void Name(string name, byte[] top, string mediaType)
    {
        Put(top);
        _names[name] = (top, mediaType);
    }

    public Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        if (!_names.TryGetValue(image, out var top))
        {
            throw new ImageNotFoundException($"{image}: no such image in memory");
        }

        var name = ImageReference.Parse(image);
        return ImageResolver.ResolveAsync(name, name, new Store(this, top.Bytes, top.MediaType), platforms, cancellationToken);
    }

    public Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken)
    {
        BlobsOpened++;
        var bytes = _blobs.TryGetValue(blob.Descriptor.Digest, out var held) ? held : throw new ImageNotFoundException($"blob {blob.Descriptor.Digest.Short}: not in memory");
        return Task.FromResult<Stream>(new VerifyingReadStream(new MemoryStream(bytes, writable: false), blob.Descriptor, "memory"));
    }

    private sealed class Store(MemoryImageSource source, byte[] top, string mediaType) : IManifestStore
    {
        public Task<ManifestDocument> GetTopAsync(CancellationToken cancellationToken) => Task.FromResult(ManifestDocument.Parse(top, mediaType, "memory"));

        public bool Has(Descriptor child) => source._blobs.ContainsKey(child.Digest);

        public Task<ManifestDocument> GetManifestAsync(Descriptor child, CancellationToken cancellationToken) =>
            Task.FromResult(ManifestDocument.Parse(Verified(child), child.MediaType, "memory"));

        public Task<ReadOnlyMemory<byte>> GetConfigAsync(Descriptor config, CancellationToken cancellationToken) => Task.FromResult<ReadOnlyMemory<byte>>(Verified(config));

        private byte[] Verified(Descriptor descriptor) =>
            source._blobs.TryGetValue(descriptor.Digest, out var bytes) && bytes.Length == descriptor.Size && Digest.Sha256Of(bytes) == descriptor.Digest
                ? bytes
                : throw new DigestMismatchException($"{descriptor.Digest.Short}: missing or not what its descriptor says");
    }
}
