namespace Ferry.Content;

/// <summary>
/// A response body that may not stay silent: a read that gets no byte within the idle timeout fails with an
/// <see cref="IOException"/> naming the host, which the resuming reader above treats like a cut connection
/// (resume with <c>Range</c>, bounded), so a server that accepts and then goes silent cannot hang Ferry.
/// </summary>
internal sealed class IdleTimeoutStream(Stream inner, TimeSpan timeout, string host, BandwidthLimit? limit = null) : AsyncReadStream(inner)
{
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(timeout);
        try
        {
            var n = await Inner.ReadAsync(buffer, idle.Token).ConfigureAwait(false);
            if (limit is not null && n > 0)
            {
                await limit.TakeAsync(n, cancellationToken).ConfigureAwait(false);
            }

            return n;
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"{host} sent no data for {timeout.TotalSeconds:0} s");
        }
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
