using Ferry.Archives.Format;

namespace Ferry.Archives;

/// <summary>
/// Writes the tar form of a layout to a forward-only stream (stdout, a pipe), entry after entry.
/// Blobs stream from the network through the stream as they arrive; nothing is buffered on disk.
/// </summary>
internal static class TarStreamWriter
{

    public static async Task WriteAsync(TarLayoutPlan plan, Stream output, LayoutWriteContext context, CancellationToken cancellationToken)
    {
        foreach (var entry in plan.Entries)
        {
            await output.WriteAsync(TarHeader.Build(entry.Name, entry.Size, entry.IsDirectory), cancellationToken).ConfigureAwait(false);
            if (entry.Inline is { } inline)
            {
                await output.WriteAsync(inline, cancellationToken).ConfigureAwait(false);
            }
            else if (entry.Blob is { } blob)
            {
                await BlobCopier.CopyAsync(blob, context, (chunk, _, token) => output.WriteAsync(chunk, token), cancellationToken).ConfigureAwait(false);
            }

            await output.WriteAsync(TarHeader.PaddingFor(entry.Size), cancellationToken).ConfigureAwait(false);
        }

        await output.WriteAsync(TarHeader.Zeros, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
