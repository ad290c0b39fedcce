using Microsoft.Win32.SafeHandles;

namespace Ferry.Archives;

/// <summary>
/// Writes the tar form of a layout into a file with positional writes: the file is sized up front,
/// headers and small blobs are written at their offsets, and layers stream from the network in parallel
/// straight into their places. Each byte is written once; zero padding comes from the file being sized.
/// </summary>
internal static class TarFileWriter
{
    public static Task WriteAsync(TarLayoutPlan plan, SafeFileHandle file, LayoutWriteContext context, CancellationToken cancellationToken) =>
        WriteAsync(plan, PositionalFile.Of(file), context, cancellationToken);

    public static async Task WriteAsync(TarLayoutPlan plan, PositionalFile file, LayoutWriteContext context, CancellationToken cancellationToken)
    {
        file.SetLength(plan.Length);

        foreach (var entry in plan.Entries)
        {
            await file.WriteAsync(TarHeader.Build(entry.Name, entry.Size, entry.IsDirectory), entry.HeaderOffset, cancellationToken).ConfigureAwait(false);
            if (entry.Inline is { } inline && inline.Length > 0)
            {
                await file.WriteAsync(inline, entry.DataOffset, cancellationToken).ConfigureAwait(false);
            }
        }

        // Largest first: the longest downloads start earliest.
        var remote = plan.Entries.Where(e => e.Blob is { Content: null }).OrderByDescending(e => e.Size).ToList();
        await Parallel.ForEachAsync(
            remote,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.Concurrency), CancellationToken = cancellationToken },
            async (entry, ct) => await BlobCopier.CopyAsync(
                entry.Blob!,
                context,
                (chunk, position, token) => file.WriteAsync(chunk, entry.DataOffset + position, token, writeback: true),
                ct).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
