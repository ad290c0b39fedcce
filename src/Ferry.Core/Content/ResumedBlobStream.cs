using Microsoft.Win32.SafeHandles;

namespace Ferry.Content;

/// <summary>
/// A blob continued from an earlier run: the prefix already in the output file (read back from it, so it is hashed
/// with the rest) followed by the source's bytes from that offset on. Forward-only.
/// </summary>
internal sealed class ResumedBlobStream(SafeFileHandle file, long prefixOffset, long prefixLength, Stream rest) : Stream
{
    private long _prefixRead;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefixRead < prefixLength)
        {
            var n = await RandomAccess.ReadAsync(file, buffer[..(int)Math.Min(buffer.Length, prefixLength - _prefixRead)], prefixOffset + _prefixRead, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("the output file ended inside a blob it was to hold");
            }

            _prefixRead += n;
            return n;
        }

        return await rest.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            rest.Dispose();
        }

        base.Dispose(disposing);
    }
}
