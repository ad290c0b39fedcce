using System.Buffers;
using System.Diagnostics;
using Ferry.Errors;
using Ferry.Transfer;

namespace Ferry.Archives;

/// <summary>Streams one remote blob to a writer in large chunks, from a pooled buffer (memory stays flat).</summary>
internal static class BlobCopier
{
    private const int ChunkSize = 1024 * 1024;

    /// <summary>Bytes received are reported in steps of this size at most, so progress moves on slow links long before a chunk is full.</summary>
    private const int ReportStep = 64 * 1024;

    /// <summary>Copies the blob, calling <paramref name="write"/> with each chunk and its position in the blob.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="context">The write context (opener, progress).</param>
    /// <param name="write">Writes a chunk at a blob-relative position.</param>
    /// <param name="cancellationToken">Cancels the copy.</param>
    /// <param name="open">Opens the verifying stream instead of <see cref="LayoutWriteContext.Open"/> (a resumed blob).</param>
    /// <param name="writeWithin">
    /// Write what has arrived at least this often, even when less than a chunk (a journalled write: on a slow link a
    /// kill loses at most this much time's bytes per blob; on a fast one chunks fill sooner and nothing changes).
    /// </param>
    /// <param name="positional">
    /// Whether <paramref name="write"/> puts bytes at their positions (a file), so a blob whose bytes turned out wrong
    /// can be fetched and written once more: a damaged cache entry is removed by the failed read and the second
    /// attempt downloads the blob. A sequential writer (a stream) cannot take anything back.
    /// </param>
    /// <returns>A task that completes when the blob is written and verified.</returns>
    public static async Task CopyAsync(TransferBlob blob, LayoutWriteContext context, Func<ReadOnlyMemory<byte>, long, CancellationToken, ValueTask> write, CancellationToken cancellationToken, Func<CancellationToken, Task<Stream>>? open = null, TimeSpan? writeWithin = null, bool positional = false)
    {
        try
        {
            await CopyOnceAsync(blob, context, write, cancellationToken, open, writeWithin).ConfigureAwait(false);
        }
        catch (DigestMismatchException) when (positional && open is null)
        {
            await CopyOnceAsync(blob, context, write, cancellationToken, open, writeWithin).ConfigureAwait(false);
        }

        context.OnBlobDone?.Invoke(blob);
    }

    private static async Task CopyOnceAsync(TransferBlob blob, LayoutWriteContext context, Func<ReadOnlyMemory<byte>, long, CancellationToken, ValueTask> write, CancellationToken cancellationToken, Func<CancellationToken, Task<Stream>>? open, TimeSpan? writeWithin)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            await using var source = await (open?.Invoke(cancellationToken) ?? context.Open(blob, cancellationToken)).ConfigureAwait(false);
            long position = 0;
            var ended = false;
            var lastWrite = Stopwatch.GetTimestamp();
            while (!ended)
            {
                // Fill the buffer before writing: fewer, larger writes — on a slow link, write what came within writeWithin.
                var filled = 0;
                var reported = 0;
                while (filled < ChunkSize)
                {
                    var n = await source.ReadAsync(buffer.AsMemory(filled, ChunkSize - filled), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        ended = true; // End of stream, already verified.
                        break;
                    }

                    filled += n;
                    if (filled - reported >= ReportStep)
                    {
                        context.OnBytes?.Invoke(blob, filled - reported);
                        reported = filled;
                        if (writeWithin is { } within && Stopwatch.GetElapsedTime(lastWrite) >= within)
                        {
                            break;
                        }
                    }
                }

                if (filled == 0)
                {
                    break;
                }

                if (filled > reported)
                {
                    context.OnBytes?.Invoke(blob, filled - reported);
                }

                await write(buffer.AsMemory(0, filled), position, cancellationToken).ConfigureAwait(false);
                lastWrite = Stopwatch.GetTimestamp();
                position += filled;
            }

            if (position != blob.Descriptor.Size)
            {
                throw new DigestMismatchException($"blob {blob.Descriptor.Digest.Short}: got {position} of {blob.Descriptor.Size} bytes");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
