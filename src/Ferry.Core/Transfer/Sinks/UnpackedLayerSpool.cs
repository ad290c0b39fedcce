using System.Buffers;
using Ferry.Archives.Format;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Reading;

namespace Ferry.Transfer.Sinks;

/// <summary>A layer unpacked into a file of the spool: its path and its uncompressed length.</summary>
/// <param name="Path">The file.</param>
/// <param name="Length">Its length, which the tar header sent ahead of it carries.</param>
internal sealed record UnpackedLayer(string Path, long Length);

/// <summary>
/// Compressed layers unpacked into files under <c>$TMPDIR</c> on their way to a Docker Engine on this machine. The
/// Engine's own decompression of a loaded layer is one single-threaded pass after it has received the whole load
/// (about a quarter of a <c>docker load</c>); unpacked here, on another core while earlier layers are being sent, it
/// takes no time of the Engine's. A tar header needs the length first, hence the file. A layer is unpacked only while
/// it fits: within <see cref="ArchiveLimits.MaxExpansion"/> of its compressed size and the spool's free space less a
/// reserve; beyond that <see cref="UnpackAsync"/> gives up and the layer is sent as stored. The bytes come through the
/// verifying stream (digest and size), so nothing unverified is ever sent.
/// </summary>
internal sealed class UnpackedLayerSpool : IDisposable
{
    /// <summary>Free space the spool leaves on its file system.</summary>
    private const long Reserve = 256L << 20;

    /// <summary>Below the large-object heap: what is read and written stays in the youngest generation.</summary>
    private const int BufferSize = 64 * 1024;

    private readonly string _directory;
    private readonly ArchiveLimits _limits;

    private UnpackedLayerSpool(string directory, ArchiveLimits limits)
    {
        _directory = directory;
        _limits = limits;
    }

    /// <summary>A spool under <c>$TMPDIR</c>; <see langword="null"/> (with a warning) when none can be made, so layers go as stored.</summary>
    public static UnpackedLayerSpool? TryCreate(TransferContext context, ArchiveLimits limits)
    {
        try
        {
            return new UnpackedLayerSpool(Debris.CreateSpool("engine"), limits);
        }
        catch (OutputException ex)
        {
            context.Report(new OutputWarningEvent($"{ex.Message}; layers go to the Docker Engine compressed, which it unpacks more slowly"));
            return null;
        }
    }

    /// <summary>
    /// Fetches the blob through the verifying stream and unpacks it into a file of the spool. Not compressed, the file
    /// holds it as it is.
    /// </summary>
    /// <returns>The unpacked layer; <see langword="null"/> when it does not fit (nothing of it is kept).</returns>
    /// <exception cref="DigestMismatchException">The blob's bytes are not its digest's; nothing of it is kept.</exception>
    public async Task<UnpackedLayer?> UnpackAsync(TransferBlob blob, TransferContext context, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_directory, blob.Descriptor.Digest.Hex);
        var room = DiskSpace.Of(_directory) is { } space ? space.Free - Reserve : long.MaxValue;
        var limit = Math.Min(room, (blob.Descriptor.Size * _limits.MaxExpansion) + ArchiveFile.BombAllowance);
        if (limit <= blob.Descriptor.Size)
        {
            return null;
        }

        try
        {
            await using var source = await context.OpenAsync(blob, cancellationToken).ConfigureAwait(false);
            var received = new ReceivedStream(source, blob, context);
            await using var buffered = new BufferedStream(received, BufferSize); // the decompressor reads 8 KiB at a time
            var length = await UnpackFromAsync(buffered, path, limit, cancellationToken).ConfigureAwait(false);
            if (length is null)
            {
                File.Delete(path);
                return null;
            }

            if (received.Bytes != blob.Descriptor.Size)
            {
                throw new DigestMismatchException($"blob {blob.Descriptor.Digest.Short}: got {received.Bytes} of {blob.Descriptor.Size} bytes");
            }

            context.BlobDone(blob);
            return new UnpackedLayer(path, length.Value);
        }
        catch (Exception ex) when (DiskSpace.IsFull(ex) || ex is InvalidDataException or ZstdSharp.ZstdException)
        {
            // A full disk, or verified bytes that are not the compression they start as: the layer goes as stored, and
            // the Engine, which reads it as docker pull would, has the last word.
            File.Delete(path);
            return null;
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>Removes the spool and whatever is left in it.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left for the next run's debris sweep (its owner is gone by then).
        }
    }

    /// <summary>Unpacks the stream into a new file; <see langword="null"/> when it grows past <paramref name="limit"/>.</summary>
    private static async Task<long?> UnpackFromAsync(Stream compressed, string path, long limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var magic = new byte[CompressionDetector.MagicLength];
            var sniffed = await compressed.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            var compression = CompressionDetector.Detect(magic.AsSpan(0, sniffed));
            await using var unpacked = CompressionDetector.Decompress(new PrefixedStream(magic.AsMemory(0, sniffed), compressed), compression, leaveOpen: true);
            await using var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0, Options = FileOptions.Asynchronous });
            long length = 0;
            int n;
            while ((n = await unpacked.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                length += n;
                if (length > limit)
                {
                    return null;
                }

                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }

            // Read to the end: the verifying stream checks the digest there.
            while (await compressed.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false) > 0)
            {
            }

            return length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The blob's bytes as they arrive, counted and reported as transferred.</summary>
    private sealed class ReceivedStream(Stream inner, TransferBlob blob, TransferContext context) : AsyncReadStream(inner)
    {
        public long Bytes { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Bytes += n;
            if (n > 0)
            {
                context.Transferred(blob, n);
            }

            return n;
        }
    }
}
