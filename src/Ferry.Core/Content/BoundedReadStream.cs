namespace Ferry.Content;

/// <summary>
/// The next <c>length</c> bytes of a stream: a byte range of a file, or an HTTP body of known length. Ending before
/// them is an <see cref="IOException"/> with <c>endedEarly</c> as its message.
/// </summary>
/// <param name="inner">The stream.</param>
/// <param name="length">How many bytes.</param>
/// <param name="endedEarly">The message when the stream ends first.</param>
/// <param name="ownsInner">Whether disposing this stream disposes <paramref name="inner"/>.</param>
internal sealed class BoundedReadStream(Stream inner, long length, string endedEarly, bool ownsInner) : AsyncReadStream(inner)
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
            throw new IOException(endedEarly);
        }

        _remaining -= n;
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && ownsInner)
        {
            Inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
