namespace Ferry.Content;

/// <summary>The next <c>length</c> bytes of a stream (a byte range of a file), owning it.</summary>
internal sealed class BoundedReadStream(Stream inner, long length) : AsyncReadStream(inner)
{
    private long _remaining = length;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining == 0 || buffer.Length == 0)
        {
            return 0;
        }

        var n = await Inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        if (n == 0)
        {
            throw new IOException("the file ended inside the range");
        }

        _remaining -= n;
        return n;
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
