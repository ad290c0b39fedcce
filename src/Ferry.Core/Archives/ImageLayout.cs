using Ferry.Oci;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.Archives;

/// <summary>
/// The logical content of a Ferry archive: an OCI image layout (blobs, <c>index.json</c>,
/// <c>oci-layout</c>) that is also a docker-archive (<c>manifest.json</c>). Writers turn it into a tar or a
/// directory; the content does not depend on the writer.
/// </summary>
/// <param name="Blobs">Every blob once, sorted by path.</param>
/// <param name="IndexJson">The bytes of <c>index.json</c>.</param>
/// <param name="ManifestJson">The bytes of <c>manifest.json</c>.</param>
public sealed record ImageLayout(IReadOnlyList<TransferBlob> Blobs, ReadOnlyMemory<byte> IndexJson, ReadOnlyMemory<byte> ManifestJson)
{
    /// <summary>The bytes of <c>oci-layout</c>.</summary>
    public static ReadOnlyMemory<byte> OciLayoutJson { get; } = "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray();

    /// <summary>The name of the file that makes an archive partial: the blobs left out and where they come from.</summary>
    public const string PartialFileName = Format.PartialRecord.FileName;

    /// <summary>The bytes of <see cref="PartialFileName"/> for a partial (delta) archive; <see langword="null"/> for a full one.</summary>
    public ReadOnlyMemory<byte>? PartialJson { get; init; }

    /// <summary>The bundle's signature over <see cref="IndexJson"/> (<c>index.json.sig</c>), when it is signed.</summary>
    public ReadOnlyMemory<byte>? IndexSignature { get; init; }

    /// <summary>The files besides the blobs, in archive (name) order.</summary>
    public IEnumerable<(string Name, ReadOnlyMemory<byte> Content)> MetadataFiles
    {
        get
        {
            if (PartialJson is { } partial)
            {
                yield return (PartialFileName, partial);
            }

            yield return ("index.json", IndexJson);
            if (IndexSignature is { } signature)
            {
                yield return (Signing.BundleSignature.FileName, signature);
            }

            yield return ("manifest.json", ManifestJson);
            yield return ("oci-layout", OciLayoutJson);
        }
    }

    /// <summary>The total size of the blobs.</summary>
    public long BlobBytes => Blobs.Sum(b => b.Descriptor.Size);
}

/// <summary>Opens the content of a blob that is not held in memory.</summary>
/// <param name="blob">The blob.</param>
/// <param name="cancellationToken">Cancels the download.</param>
/// <returns>A stream that verifies digest and size when read to its end.</returns>
public delegate Task<Stream> BlobOpener(TransferBlob blob, CancellationToken cancellationToken);

/// <summary>What a layout writer needs besides the layout.</summary>
/// <param name="Open">Opens remote blobs.</param>
/// <param name="Concurrency">How many blobs may be fetched at once.</param>
/// <param name="OnBytes">Called with each number of a blob's bytes received, in steps of at most 64 KiB (may be called concurrently).</param>
/// <param name="OnBlobDone">Called when a fetched blob is complete and verified.</param>
public sealed record LayoutWriteContext(BlobOpener Open, int Concurrency, Action<TransferBlob, long>? OnBytes = null, Action<TransferBlob>? OnBlobDone = null)
{
    /// <summary>Opens a blob from an offset on, unverified, to continue an earlier run's download; <see langword="null"/> (or a null stream) when the source cannot.</summary>
    public Func<TransferBlob, long, CancellationToken, Task<Stream?>>? OpenFrom { get; init; }

    /// <summary>Puts a blob at a path without copying (a hard link from a blob cache); <see langword="false"/> when it cannot.</summary>
    public Func<TransferBlob, string, CancellationToken, Task<bool>>? Place { get; init; }

    /// <summary>The context the archive writers take from a run's transfer context.</summary>
    /// <param name="context">The run's context.</param>
    /// <returns>The writers' context.</returns>
    internal static LayoutWriteContext For(TransferContext context) =>
        new(context.OpenAsync, context.Concurrency, context.Transferred, context.BlobDone) { OpenFrom = context.OpenFromAsync, Place = context.PlaceAsync };
}
