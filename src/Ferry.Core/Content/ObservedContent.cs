using System.Net;

namespace Ferry.Content;

/// <summary>
/// A request body whose bytes are watched as they go out: each write tells the sent callback how many (the idle
/// timer restarts, counts grow) and waits for the bandwidth limit when a rate cap is set. It wraps the body it is
/// given and keeps its headers.
/// </summary>
internal sealed class ObservedContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly Action<long> _sent;
    private readonly BandwidthLimit? _limit;

    public ObservedContent(HttpContent inner, Action<long> sent, BandwidthLimit? limit)
    {
        _inner = inner;
        _sent = sent;
        _limit = limit;
        foreach (var header in inner.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _inner.CopyToAsync(new Watched(stream, _sent, _limit), context, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = _inner.Headers.ContentLength ?? -1;
        return length >= 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>The transport stream, seen through: writes go on in pieces of at most 256 KiB so the timer and the cap see steady progress.</summary>
    private sealed class Watched(Stream inner, Action<long> sent, BandwidthLimit? limit) : WriteOnlyStream
    {
        private const int Piece = 256 * 1024;

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            while (buffer.Length > 0)
            {
                var piece = buffer[..Math.Min(Piece, buffer.Length)];
                if (limit is not null)
                {
                    await limit.TakeAsync(piece.Length, cancellationToken).ConfigureAwait(false);
                }

                await inner.WriteAsync(piece, cancellationToken).ConfigureAwait(false);
                sent(piece.Length);
                buffer = buffer[piece.Length..];
            }
        }
    }
}
