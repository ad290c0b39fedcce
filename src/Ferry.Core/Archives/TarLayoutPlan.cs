using Ferry.Archives.Format;
using Ferry.Transfer;

namespace Ferry.Archives;

/// <summary>One entry of a planned tar: where its header and data go.</summary>
/// <param name="Name">The entry name.</param>
/// <param name="Size">The data length.</param>
/// <param name="IsDirectory">Whether it is a directory entry.</param>
/// <param name="HeaderOffset">The offset of its first header byte.</param>
/// <param name="DataOffset">The offset of its first data byte.</param>
/// <param name="Blob">The blob it holds, if any.</param>
/// <param name="Inline">Its content, when held in memory.</param>
internal sealed record TarPlanEntry(string Name, long Size, bool IsDirectory, long HeaderOffset, long DataOffset, TransferBlob? Blob, ReadOnlyMemory<byte>? Inline);

/// <summary>
/// The exact byte layout of the tar form of an <see cref="ImageLayout"/>. Because every size is known
/// before any layer is downloaded, each blob's offset is known too, so downloads can be written in parallel
/// straight to their final place in the file.
/// </summary>
internal sealed class TarLayoutPlan
{
    private TarLayoutPlan(IReadOnlyList<TarPlanEntry> entries, long length)
    {
        Entries = entries;
        Length = length;
    }

    /// <summary>The entries, in archive order (sorted by name).</summary>
    public IReadOnlyList<TarPlanEntry> Entries { get; }

    /// <summary>The total archive length, including the end-of-archive blocks.</summary>
    public long Length { get; }

    public static TarLayoutPlan Create(ImageLayout layout)
    {
        var entries = new List<TarPlanEntry>();
        long offset = 0;
        void Add(string name, long size, bool isDirectory, TransferBlob? blob, ReadOnlyMemory<byte>? inline)
        {
            var header = TarHeader.HeaderLength(name);
            entries.Add(new TarPlanEntry(name, size, isDirectory, offset, offset + header, blob, inline));
            offset += header + size + TarHeader.Pad(size);
        }

        var directories = layout.Blobs.Select(b => b.Descriptor.Digest.Algorithm).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        Add("blobs/", 0, true, null, null);
        foreach (var algorithm in directories)
        {
            Add($"blobs/{algorithm}/", 0, true, null, null);
            foreach (var blob in layout.Blobs.Where(b => b.Descriptor.Digest.Algorithm == algorithm).OrderBy(b => b.Path, StringComparer.Ordinal))
            {
                Add(blob.Path, blob.Descriptor.Size, false, blob, blob.Content);
            }
        }

        foreach (var (name, content) in layout.MetadataFiles)
        {
            Add(name, content.Length, false, null, content);
        }

        return new TarLayoutPlan(entries, offset + TarHeader.TrailerLength);
    }
}
