using Microsoft.Win32.SafeHandles;

namespace Ferry.Content;

/// <summary>
/// A blob continued from an earlier run: the prefix already in the output file (read back from it, so it is hashed
/// with the rest) followed by the source's bytes from that offset on (<paramref name="rest"/>, owned). Forward-only.
/// </summary>
internal sealed class ResumedBlobStream(SafeFileHandle file, long prefixOffset, long prefixLength, Stream rest) : AsyncReadStream(rest)
{
    private long _prefixRead;

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

        return await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
