using System.Threading.RateLimiting;

namespace Ferry.Content;

/// <summary>
/// A cap on bytes per second shared by every transfer of one direction (<c>--limit-rate</c>, as curl's and rsync's): a
/// token bucket refilled every 50 ms with a burst of 100 ms, so the average holds over any second while parallel
/// transfers share it fairly (oldest waiter first).
/// </summary>
public sealed class BandwidthLimit : IDisposable
{
    private const int PeriodsPerSecond = 20;
    private readonly TokenBucketRateLimiter _bucket;
    private readonly int _largestTake;

    /// <summary>Creates a cap.</summary>
    /// <param name="bytesPerSecond">The most bytes per second (at least 1 KiB).</param>
    public BandwidthLimit(long bytesPerSecond)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerSecond, 1024);
        BytesPerSecond = bytesPerSecond;
        var perPeriod = (int)Math.Min(int.MaxValue / 4, Math.Max(1, bytesPerSecond / PeriodsPerSecond));
        _largestTake = perPeriod;
        _bucket = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perPeriod * 2,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1.0 / PeriodsPerSecond),
            AutoReplenishment = true,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
    }

    /// <summary>The cap.</summary>
    public long BytesPerSecond { get; }

    /// <summary>Waits until <paramref name="bytes"/> more bytes may go.</summary>
    /// <param name="bytes">How many.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when they may.</returns>
    public async ValueTask TakeAsync(long bytes, CancellationToken cancellationToken)
    {
        while (bytes > 0)
        {
            var take = (int)Math.Min(bytes, _largestTake);
            using var lease = await _bucket.AcquireAsync(take, cancellationToken).ConfigureAwait(false);
            bytes -= take;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _bucket.Dispose();
}
