namespace Ferry.Archives;

/// <summary>Writes a layout as a plain directory (an OCI image layout with <c>manifest.json</c>), blobs in parallel.</summary>
internal static class DirectoryLayoutWriter
{
    public static async Task WriteAsync(ImageLayout layout, string directory, LayoutWriteContext context, CancellationToken cancellationToken)
    {
        foreach (var algorithm in layout.Blobs.Select(b => b.Descriptor.Digest.Algorithm).Distinct(StringComparer.Ordinal))
        {
            Directory.CreateDirectory(Path.Combine(directory, "blobs", algorithm));
        }

        Directory.CreateDirectory(Path.Combine(directory, "blobs"));
        foreach (var blob in layout.Blobs.Where(b => b.Content is not null))
        {
            await File.WriteAllBytesAsync(Path.Combine(directory, blob.Path), blob.Content!.Value, cancellationToken).ConfigureAwait(false);
        }

        var remote = layout.Blobs.Where(b => b.Content is null).OrderByDescending(b => b.Descriptor.Size).ToList();
        await Parallel.ForEachAsync(
            remote,
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, context.Concurrency), CancellationToken = cancellationToken },
            async (blob, ct) =>
            {
                // A blob already in the cache is linked, not copied: no byte moves.
                if (context.Place is { } place && await place(blob, Path.Combine(directory, blob.Path), ct).ConfigureAwait(false))
                {
                    context.OnBytes?.Invoke(blob, blob.Descriptor.Size);
                    context.OnBlobDone?.Invoke(blob);
                    return;
                }

                using var file = File.OpenHandle(Path.Combine(directory, blob.Path), FileMode.CreateNew, FileAccess.Write);
                RandomAccess.SetLength(file, blob.Descriptor.Size);
                await BlobCopier.CopyAsync(blob, context, (chunk, position, token) => RandomAccess.WriteAsync(file, chunk, position, token), ct, positional: true).ConfigureAwait(false);
            }).ConfigureAwait(false);

        foreach (var (name, content) in layout.MetadataFiles)
        {
            await File.WriteAllBytesAsync(Path.Combine(directory, name), content, cancellationToken).ConfigureAwait(false);
        }
    }
}
