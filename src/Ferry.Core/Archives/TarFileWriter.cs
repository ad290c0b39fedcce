using Ferry.Archives.Format;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Saving;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Archives;

/// <summary>
/// Writes the tar form of a layout into a file with positional writes: the file is sized up front,
/// headers and small blobs are written at their offsets, and layers stream from the network in parallel
/// straight into their places. Each byte is written once; zero padding comes from the file being sized.
/// With a <see cref="ResumeJournal"/> the blobs an earlier run left are checked and kept, partial ones continue
/// from where they stopped, and every write is journalled.
/// </summary>
internal static class TarFileWriter
{
    /// <summary>
    /// Writes are journalled; on a slow link what arrived is written (and journalled) at least this often, so a kill
    /// loses at most this long's bytes per blob. (Smaller fixed chunks cost 15-20 % on a fast link: docs/benchmarks.md.)
    /// </summary>
    private static readonly TimeSpan JournalEvery = TimeSpan.FromMilliseconds(100);

    public static Task WriteAsync(TarLayoutPlan plan, SafeFileHandle file, LayoutWriteContext context, CancellationToken cancellationToken, ResumeJournal? journal = null) =>
        WriteAsync(plan, PositionalFile.Of(file), context, cancellationToken, journal);

    public static async Task WriteAsync(TarLayoutPlan plan, PositionalFile file, LayoutWriteContext context, CancellationToken cancellationToken, ResumeJournal? journal = null)
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
            async (entry, ct) =>
            {
                if (journal is null)
                {
                    await BlobCopier.CopyAsync(
                        entry.Blob!,
                        context,
                        (chunk, position, token) => file.WriteAsync(chunk, entry.DataOffset + position, token, writeback: true),
                        ct,
                        positional: true).ConfigureAwait(false);
                }
                else
                {
                    await CopyJournalledAsync(entry, file, context, journal, ct).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
    }

    private static async Task CopyJournalledAsync(TarPlanEntry entry, PositionalFile file, LayoutWriteContext context, ResumeJournal journal, CancellationToken cancellationToken)
    {
        var blob = entry.Blob!;
        var digest = blob.Descriptor.Digest;
        var earlier = journal.EarlierOf(digest);
        if (earlier == blob.Descriptor.Size)
        {
            if (await journal.HoldsAsync(blob.Descriptor, entry.DataOffset, cancellationToken).ConfigureAwait(false))
            {
                journal.Done(digest, blob.Descriptor.Size);
                context.OnBytes?.Invoke(blob, blob.Descriptor.Size);
                context.OnBlobDone?.Invoke(blob);
                return;
            }

            earlier = 0; // Not what the journal said (a power cut before write-back): fetched again.
        }

        var rest = earlier > 0 && context.OpenFrom is { } openFrom ? await openFrom(blob, earlier, cancellationToken).ConfigureAwait(false) : null;
        if (rest is null)
        {
            earlier = 0;
        }

        try
        {
            await CopyAsync(earlier, rest).ConfigureAwait(false);
        }
        catch (DigestMismatchException) when (earlier > 0)
        {
            // The kept prefix was not the blob's (written out of order, or lost to a power cut): fetched whole.
            journal.Have(digest, 0);
            await CopyAsync(0, null).ConfigureAwait(false);
        }

        journal.Done(digest, blob.Descriptor.Size);

        Task CopyAsync(long skip, Stream? continuation) => BlobCopier.CopyAsync(
            blob,
            context,
            async (chunk, position, token) =>
            {
                // The prefix read back from the file is hashed, not written again.
                var already = (int)Math.Clamp(skip - position, 0, chunk.Length);
                if (already < chunk.Length)
                {
                    await file.WriteAsync(chunk[already..], entry.DataOffset + position + already, token, writeback: true).ConfigureAwait(false);
                }

                journal.Have(digest, position + chunk.Length);
            },
            cancellationToken,
            continuation is null ? null : _ => Task.FromResult<Stream>(new VerifyingReadStream(new ResumedBlobStream(journal.Data, entry.DataOffset, skip, continuation), blob.Descriptor, blob.Source?.Name ?? "archive")),
            JournalEvery,
            positional: true);
    }
}
