using System.Diagnostics;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer;

/// <summary>
/// What a sink is given besides the plan: blobs opened at the source (verifying streams), the concurrency limit,
/// and progress reporting that knows which blob and which images the bytes belong to. One per run.
/// </summary>
public sealed class TransferContext
{
    private readonly IImageSource _source;
    private readonly IProgress<TransferEvent>? _progress;
    private readonly CompletionTracker _tracker;
    private long _done;

    internal TransferContext(IImageSource source, TransferPlan plan, int concurrency, int jobs, IProgress<TransferEvent>? progress, Stopwatch clock)
    {
        _source = source;
        _progress = progress;
        Plan = plan;
        Concurrency = Math.Max(1, concurrency);
        Jobs = Math.Max(1, jobs);
        _tracker = new CompletionTracker(plan, progress, clock);
    }

    /// <summary>The run's plan.</summary>
    public TransferPlan Plan { get; }

    /// <summary>How many blobs may move at once.</summary>
    public int Concurrency { get; }

    /// <summary>How many images a sink may work on at once.</summary>
    public int Jobs { get; }

    /// <summary>Opens a blob at the source; the stream verifies digest and size when read to its end.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The stream.</returns>
    public Task<Stream> OpenAsync(TransferBlob blob, CancellationToken cancellationToken) => _source.OpenBlobAsync(blob, cancellationToken);

    /// <summary>Opens a blob at the source from an offset on (unverified), or <see langword="null"/> when the source cannot.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="offset">The first byte wanted.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The rest of the blob, or <see langword="null"/>.</returns>
    public Task<Stream?> OpenFromAsync(TransferBlob blob, long offset, CancellationToken cancellationToken) => _source.OpenBlobFromAsync(blob, offset, cancellationToken);

    /// <summary>Reports bytes of a blob written to the destination.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="bytes">How many bytes.</param>
    public void Transferred(TransferBlob blob, long bytes)
    {
        ArgumentNullException.ThrowIfNull(blob);
        _progress?.Report(new BytesTransferredEvent(bytes) { Blob = blob.Descriptor.Digest, Positions = Plan.PositionsOf(blob.Descriptor.Digest) });
    }

    /// <summary>Reports a blob complete and verified at the destination (streamed blobs count towards the total).</summary>
    /// <param name="blob">The blob.</param>
    public void BlobDone(TransferBlob blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (blob.Content is null)
        {
            var total = Interlocked.Add(ref _done, blob.Descriptor.Size);
            _progress?.Report(new BlobCompletedEvent(blob.Descriptor.Digest, blob.Descriptor.Size, total, Plan.StreamedBytes) { Positions = Plan.PositionsOf(blob.Descriptor.Digest) });
        }

        _tracker.BlobDone(blob.Descriptor.Digest);
    }

    /// <summary>Reports a sink's own event (an image pushed, a daemon's message).</summary>
    /// <param name="transferEvent">The event.</param>
    public void Report(TransferEvent transferEvent) => _progress?.Report(transferEvent);

    /// <summary>Puts a blob at a path without copying (a hard link from a source's blob cache); <see langword="false"/> when the source cannot.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="path">The file to create.</param>
    /// <param name="cancellationToken">Cancels the placing.</param>
    /// <returns>Whether the blob is now at <paramref name="path"/>.</returns>
    internal async Task<bool> PlaceAsync(TransferBlob blob, string path, CancellationToken cancellationToken) =>
        LinkCache is { } cache && await cache.TryLinkAsync(blob.Descriptor, path, cancellationToken).ConfigureAwait(false);

    /// <summary>The blob cache <see cref="PlaceAsync"/> links from (<see cref="TransferRequest.LinkCache"/>).</summary>
    internal Caching.BlobCache? LinkCache { get; init; }

    /// <summary>Reports images whose every blob was already in place before anything moved.</summary>
    internal void Start()
    {
        _progress?.Report(new DownloadStartedEvent(Plan.StreamedBlobs.Count(), Plan.StreamedBytes));
        _tracker.ReportImagesWithoutTransfers();
    }

    /// <summary>Reports each image when the last of its streamed blobs is in place.</summary>
    private sealed class CompletionTracker
    {
        private readonly Dictionary<Digest, List<int>> _imagesByBlob = [];
        private readonly int[] _remaining;
        private readonly TransferPlan _plan;
        private readonly IProgress<TransferEvent>? _progress;
        private readonly Stopwatch _clock;
        private readonly Lock _gate = new();

        public CompletionTracker(TransferPlan plan, IProgress<TransferEvent>? progress, Stopwatch clock)
        {
            _plan = plan;
            _progress = progress;
            _clock = clock;
            _remaining = new int[plan.Images.Count];
            var streamed = plan.StreamedBlobs.Select(b => b.Descriptor.Digest).ToHashSet();
            for (var i = 0; i < plan.Images.Count; i++)
            {
                foreach (var layer in plan.Images[i].Image.LayerDescriptors.Select(d => d.Digest).Distinct().Where(streamed.Contains))
                {
                    if (!_imagesByBlob.TryGetValue(layer, out var list))
                    {
                        _imagesByBlob[layer] = list = [];
                    }

                    list.Add(i);
                    _remaining[i]++;
                }
            }
        }

        public void ReportImagesWithoutTransfers()
        {
            for (var i = 0; i < _remaining.Length; i++)
            {
                if (_remaining[i] == 0)
                {
                    Report(i);
                }
            }
        }

        public void BlobDone(Digest digest)
        {
            lock (_gate)
            {
                if (!_imagesByBlob.Remove(digest, out var images))
                {
                    return;
                }

                foreach (var i in images)
                {
                    if (--_remaining[i] == 0)
                    {
                        Report(i);
                    }
                }
            }
        }

        private void Report(int i)
        {
            var planned = _plan.Images[i];
            _progress?.Report(new ImageWrittenEvent(TransferEngine.Describe(planned.Image), planned.Position, _plan.RequestedCount, _clock.Elapsed));
        }
    }
}
