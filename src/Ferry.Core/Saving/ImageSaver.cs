using System.Collections.Concurrent;
using System.Diagnostics;
using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Saving;

/// <summary>
/// Saves images from registries (or a Docker Engine, through <see cref="IImageSource"/>) into one archive. First every manifest and config is fetched and
/// verified (small, in memory, <see cref="SaveRequest.Jobs"/> images at a time); then the archive's exact
/// layout is known and layers stream once from the network to their place in the output, in parallel
/// under one connection limit, verified while they stream. A blob shared by several images is fetched once.
/// </summary>
public sealed class ImageSaver
{
    private readonly IImageSource _source;
    private readonly ILogger _logger;

    /// <summary>Creates a saver that pulls from registries.</summary>
    /// <param name="registry">The registry client to pull with.</param>
    /// <param name="logger">Receives debug detail; nothing when <see langword="null"/>.</param>
    public ImageSaver(RegistryClient registry, ILogger? logger = null)
        : this(new RegistryImageSource(registry), logger)
    {
    }

    /// <summary>Creates a saver that takes images from any source (a registry, a Docker Engine).</summary>
    /// <param name="source">Where images come from.</param>
    /// <param name="logger">Receives debug detail; nothing when <see langword="null"/>.</param>
    public ImageSaver(IImageSource source, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        _source = source;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Saves the requested images.</summary>
    /// <param name="request">What to save and where.</param>
    /// <param name="progress">Receives progress events, in order for each image.</param>
    /// <param name="cancellationToken">Cancels the save; no partial output is left behind.</param>
    /// <returns>What was saved (and, in bulk mode, what failed).</returns>
    /// <exception cref="FerryException">Any failure outside bulk mode; in bulk mode, when nothing could be saved or a download fails.</exception>
    public async Task<SaveResult> SaveAsync(SaveRequest request, IProgress<TransferEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Validate(request);
        var clock = Stopwatch.StartNew();
        var output = request.OutputStream is null ? AtomicOutput.Prepare(request.Output!) : null;

        // Idempotence: an output that already holds exactly these images at the digests the source names now.
        if (output is not null && await UpToDate.CheckAsync(output.Target, request, (image, token) => _source.PeekAsync(image, request, token), cancellationToken).ConfigureAwait(false) is { } upToDate)
        {
            return new SaveResult(upToDate.Images, upToDate.Bytes, 0, output.Target, []) { Executed = false };
        }

        var (resolved, positions, failed) = await ResolveAllAsync(request, progress, cancellationToken).ConfigureAwait(false);
        if (resolved.Count == 0)
        {
            // Bulk mode, every image failed: nothing is written; the caller reports the failures.
            return new SaveResult([], 0, 0, null, failed);
        }

        var saved = resolved.Select(ToSavedImage).ToList();
        var layout = LayoutBuilder.Build(resolved);
        var omitted = new List<OmittedBlob>();
        if (request.Exclude.Count > 0 || request.ExcludeArchives.Count > 0)
        {
            var exclusions = await Exclusions.CollectAsync(request, _source, cancellationToken).ConfigureAwait(false);
            omitted = exclusions.Omit(resolved);
            var left = omitted.Select(o => o.Digest).ToHashSet();
            layout = layout with { Blobs = layout.Blobs.Where(b => !left.Contains(b.Descriptor.Digest)).ToList(), PartialJson = Exclusions.PartialJson(omitted) };
        }

        var remote = layout.Blobs.Where(b => b.Content is null).ToList();
        var remoteBytes = remote.Sum(b => b.Descriptor.Size);
        var plan = TarLayoutPlan.Create(layout);
        Diagnostics.Log.Plan(_logger, layout.Blobs.Count, remoteBytes, plan.Length);
        progress?.Report(new DownloadStartedEvent(remote.Count, remoteBytes));

        var tracker = new CompletionTracker(resolved, saved, positions, request.Images.Count, clock, progress, omitted.Select(o => o.Digest).ToHashSet());
        tracker.ReportImagesWithoutDownloads();
        long done = 0;
        var context = new LayoutWriteContext(
            OpenBlobAsync,
            Math.Max(1, request.MaxConcurrentDownloads),
            OnBytes: bytes => progress?.Report(new BytesTransferredEvent(bytes)),
            OnBlobDone: blob =>
            {
                var total = Interlocked.Add(ref done, blob.Descriptor.Size);
                progress?.Report(new BlobCompletedEvent(blob.Descriptor.Digest, blob.Descriptor.Size, total, remoteBytes));
                tracker.BlobDone(blob.Descriptor.Digest);
            });

        long archiveBytes;
        if (output is null)
        {
            archiveBytes = await WriteToStreamAsync(plan, request.OutputStream!, request.Compression, context, cancellationToken).ConfigureAwait(false);
            return new SaveResult(saved, archiveBytes, remoteBytes, null, failed) { Omitted = omitted };
        }

        try
        {
            archiveBytes = await WriteToFileAsync(layout, plan, output, request, context, cancellationToken).ConfigureAwait(false);
            return new SaveResult(saved, archiveBytes, remoteBytes, output.Target, failed) { Omitted = omitted };
        }
        catch (IOException ex)
        {
            output.Abandon();
            throw new OutputException($"cannot write {output.Target}: {ex.Message}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            output.Abandon();
            throw new OutputException($"cannot write {output.Target}: {ex.Message}", ex);
        }
        catch
        {
            output.Abandon();
            throw;
        }
    }

    private static void Validate(SaveRequest request)
    {
        if (request.Images.Count == 0)
        {
            throw new InvalidInputException("no image to save");
        }

        if (request.OutputStream is null && string.IsNullOrEmpty(request.Output))
        {
            throw new InvalidInputException("no output given");
        }

        if (request.OutputStream is not null && request.Format == ArchiveFormat.Directory)
        {
            throw new InvalidInputException("a directory layout cannot be written to a stream");
        }

        if (request.Format == ArchiveFormat.Directory && request.Compression != OuterCompression.None)
        {
            throw new InvalidInputException("a directory layout cannot be compressed");
        }

        if (request.Jobs is < 1 or > 20)
        {
            throw new InvalidInputException($"jobs must be between 1 and 20, not {request.Jobs}");
        }
    }

    private async Task<(List<ResolvedImage> Resolved, List<int> Positions, List<FailedImage> Failed)> ResolveAllAsync(SaveRequest request, IProgress<TransferEvent>? progress, CancellationToken cancellationToken)
    {
        await _source.PrepareAsync([.. request.Images, .. request.Exclude], request, cancellationToken).ConfigureAwait(false);
        var count = request.Images.Count;
        var results = new ResolvedImage?[count];
        var failures = new ConcurrentDictionary<int, FailedImage>();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = request.Jobs, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                try
                {
                    results[i] = await _source.ResolveAsync(request.Images[i], request, ct).ConfigureAwait(false);
                    progress?.Report(new ImageResolvedEvent(ToSavedImage(results[i]!), i + 1, count));
                }
                catch (FerryException ex) when (request.ContinueOnError)
                {
                    var failure = new FailedImage(request.Images[i], i + 1, ex.Message);
                    failures[i] = failure;
                    progress?.Report(new ImageFailedEvent(failure, count));
                }
            }).ConfigureAwait(false);

        var resolved = new List<ResolvedImage>();
        var positions = new List<int>();
        for (var i = 0; i < count; i++)
        {
            if (results[i] is { } image)
            {
                resolved.Add(image);
                positions.Add(i + 1);
            }
        }

        return (resolved, positions, failures.OrderBy(f => f.Key).Select(f => f.Value).ToList());
    }

    private static async Task<long> WriteToStreamAsync(TarLayoutPlan plan, Stream stream, OuterCompression compression, LayoutWriteContext context, CancellationToken cancellationToken)
    {
        if (compression == OuterCompression.None)
        {
            await TarStreamWriter.WriteAsync(plan, stream, context, cancellationToken).ConfigureAwait(false);
            return plan.Length;
        }

        await using var compressor = new ParallelBlockCompressor(stream, compression);
        await TarStreamWriter.WriteAsync(plan, compressor, context, cancellationToken).ConfigureAwait(false);
        await compressor.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return compressor.CompressedBytes;
    }

    private static async Task<long> WriteToFileAsync(ImageLayout layout, TarLayoutPlan plan, AtomicOutput output, SaveRequest request, LayoutWriteContext context, CancellationToken cancellationToken)
    {
        if (request.Format == ArchiveFormat.Directory)
        {
            Directory.CreateDirectory(output.Temporary);
            await DirectoryLayoutWriter.WriteAsync(layout, output.Temporary, context, cancellationToken).ConfigureAwait(false);
            output.CommitDirectory();
            return layout.BlobBytes;
        }

        // The tar is written with parallel positional writes; compression then streams it once more,
        // on all cores, into the final file.
        var tarPath = request.Compression == OuterCompression.None ? output.Temporary : output.Temporary + ".tar";
        try
        {
            using (var file = File.OpenHandle(tarPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                await TarFileWriter.WriteAsync(plan, file, context, cancellationToken).ConfigureAwait(false);
            }

            if (request.Compression != OuterCompression.None)
            {
                await using var source = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.DeleteOnClose);
                await using var target = new FileStream(output.Temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                await using var compressor = new ParallelBlockCompressor(target, request.Compression);
                await source.CopyToAsync(compressor, 1 << 20, cancellationToken).ConfigureAwait(false);
                await compressor.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            if (tarPath != output.Temporary && File.Exists(tarPath))
            {
                File.Delete(tarPath);
            }
        }

        output.CommitFile();
        return new FileInfo(output.Target).Length;
    }

    private Task<Stream> OpenBlobAsync(LayoutBlob blob, CancellationToken cancellationToken) => _source.OpenBlobAsync(blob, cancellationToken);

    private static SavedImage ToSavedImage(ResolvedImage image) =>
        new(image.Reference, image.Top.Digest, image.Platforms.Where(p => p.Platform.Os != "unknown").Select(p => p.Platform).ToList(), image.TotalBytes, image.IsSubset);

    /// <summary>Reports each image as saved when the last of its layers is in the archive.</summary>
    private sealed class CompletionTracker
    {
        private readonly Dictionary<Digest, List<int>> _imagesByBlob = [];
        private readonly int[] _remaining;
        private readonly IReadOnlyList<SavedImage> _saved;
        private readonly IReadOnlyList<int> _positions;
        private readonly int _count;
        private readonly Stopwatch _clock;
        private readonly IProgress<TransferEvent>? _progress;
        private readonly Lock _gate = new();

        public CompletionTracker(IReadOnlyList<ResolvedImage> images, IReadOnlyList<SavedImage> saved, IReadOnlyList<int> positions, int count, Stopwatch clock, IProgress<TransferEvent>? progress, IReadOnlySet<Digest> omitted)
        {
            _saved = saved;
            _positions = positions;
            _count = count;
            _clock = clock;
            _progress = progress;
            _remaining = new int[images.Count];
            for (var i = 0; i < images.Count; i++)
            {
                foreach (var layer in images[i].LayerDescriptors.Select(d => d.Digest).Distinct().Where(d => !omitted.Contains(d)))
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

        public void ReportImagesWithoutDownloads()
        {
            for (var i = 0; i < _remaining.Length; i++)
            {
                if (_remaining[i] == 0)
                {
                    _progress?.Report(new ImageSavedEvent(_saved[i], _positions[i], _count, _clock.Elapsed));
                }
            }
        }

        public void BlobDone(Digest digest)
        {
            lock (_gate)
            {
                if (!_imagesByBlob.TryGetValue(digest, out var images))
                {
                    return;
                }

                foreach (var i in images)
                {
                    if (--_remaining[i] == 0)
                    {
                        _progress?.Report(new ImageSavedEvent(_saved[i], _positions[i], _count, _clock.Elapsed));
                    }
                }
            }
        }
    }
}
