using Microsoft.Win32.SafeHandles;

namespace Ferry.Archives;

/// <summary>Where a planned tar goes with positional writes: one file, or split parts of a fixed size (<c>--split-size</c>).</summary>
internal abstract class PositionalFile
{
    /// <summary>One file.</summary>
    public static PositionalFile Of(SafeFileHandle file) => new Single(file);

    /// <summary>Parts of <paramref name="partSize"/> bytes each (the last one shorter), in order.</summary>
    public static PositionalFile Split(IReadOnlyList<SafeFileHandle> parts, long partSize) => new Parts(parts, partSize);

    /// <summary>Sizes the file (every part) for an archive of <paramref name="length"/> bytes: unwritten bytes read as zeros.</summary>
    public abstract void SetLength(long length);

    /// <summary>Writes at an offset of the whole archive (across parts when it straddles one's end) and starts write-back.</summary>
    public abstract ValueTask WriteAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken, bool writeback = false);

    private sealed class Single(SafeFileHandle file) : PositionalFile
    {
        public override void SetLength(long length) => RandomAccess.SetLength(file, length);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken, bool writeback = false)
        {
            await RandomAccess.WriteAsync(file, data, offset, cancellationToken).ConfigureAwait(false);
            if (writeback)
            {
                Content.EarlyWriteback.Start(file, offset, data.Length);
            }
        }
    }

    private sealed class Parts(IReadOnlyList<SafeFileHandle> parts, long partSize) : PositionalFile
    {
        public override void SetLength(long length)
        {
            for (var i = 0; i < parts.Count; i++)
            {
                RandomAccess.SetLength(parts[i], Math.Clamp(length - (i * partSize), 0, partSize));
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, long offset, CancellationToken cancellationToken, bool writeback = false)
        {
            while (data.Length > 0)
            {
                var part = (int)(offset / partSize);
                var local = offset % partSize;
                var n = (int)Math.Min(data.Length, partSize - local);
                await RandomAccess.WriteAsync(parts[part], data[..n], local, cancellationToken).ConfigureAwait(false);
                if (writeback)
                {
                    Content.EarlyWriteback.Start(parts[part], local, n);
                }

                data = data[n..];
                offset += n;
            }
        }
    }
}
