using System.Collections.Concurrent;
using System.Diagnostics;
using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Transfer;

/// <summary>
/// The one transfer engine behind every command: source → plan → sink. It asks the sink whether the destination is
/// already up to date, resolves every image (<see cref="TransferRequest.Jobs"/> at a time; in bulk mode a failing image
/// is listed and the others go on), plans the whole run once — every distinct blob once, layers of excluded images
/// left out — and hands the plan to the sink, which moves each blob at most once, verified while it streams, and
/// commits atomically. A streaming source (a Docker Engine's export) writes into a sink that takes blobs in any order
/// instead, so its bytes also cross the disk once; the plan is then made from what arrived.
/// </summary>
/// <param name="logger">Receives debug detail; nothing when <see langword="null"/>.</param>
public sealed class TransferEngine(ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Runs a transfer into a sink whose report has a known type, and returns that report typed.</summary>
    /// <typeparam name="TReport">The sink's report.</typeparam>
    /// <param name="request">Which images.</param>
    /// <param name="source">Where they come from.</param>
    /// <param name="sink">Where they go.</param>
    /// <param name="progress">Typed progress events.</param>
    /// <param name="cancellationToken">Cancels the run; the sink leaves nothing half-written.</param>
    /// <returns>The plan, the failures, and the sink's report.</returns>
    /// <exception cref="FerryException">Outside bulk mode, any failure; in bulk mode, failures that are not one image's.</exception>
    public async Task<TransferResult<TReport>> RunAsync<TReport>(TransferRequest request, IImageSource source, IImageSink<TReport> sink, IProgress<TransferEvent>? progress = null, CancellationToken cancellationToken = default)
        where TReport : SinkReport
    {
        var result = await RunAsync(request, source, (IImageSink)sink, progress, cancellationToken).ConfigureAwait(false);
        return new TransferResult<TReport>(result, result.Report switch
        {
            null => null,
            TReport typed => typed,
            var other => throw new InvalidOperationException($"{sink.GetType().Name} reported a {other.GetType().Name}, not the {typeof(TReport).Name} it promises"),
        });
    }

    /// <summary>Runs a transfer.</summary>
    /// <param name="request">Which images.</param>
    /// <param name="source">Where they come from.</param>
    /// <param name="sink">Where they go.</param>
    /// <param name="progress">Typed progress events.</param>
    /// <param name="cancellationToken">Cancels the run; the sink leaves nothing half-written.</param>
    /// <returns>The plan, the failures, and the sink's report.</returns>
    /// <exception cref="FerryException">Outside bulk mode, any failure; in bulk mode, failures that are not one image's.</exception>
    public async Task<TransferResult> RunAsync(TransferRequest request, IImageSource source, IImageSink sink, IProgress<TransferEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(sink);
        request.Validate();
        if (request.IsPartial && !sink.AcceptsPartial)
        {
            throw new InvalidInputException("leaving layers out (Exclude, ExcludeArchives) needs an archive as the destination");
        }

        var clock = Stopwatch.StartNew();
        var platforms = await sink.PlatformsAsync(request.Platforms, cancellationToken).ConfigureAwait(false) ?? source.DefaultPlatforms;
        if (!request.Force && !request.IsPartial && request.ManifestFormat is null &&
            await sink.CheckUpToDateAsync(request, (image, token) => PeekRenamedAsync(request, source, image, platforms, token), cancellationToken).ConfigureAwait(false) is { } upToDate)
        {
            return new TransferResult(TransferPlan.Empty, [], upToDate) { Executed = false };
        }

        // Streaming skips nothing of the rules below: the source refuses unselected platforms before its export starts,
        // and what arrived is admitted, renamed and converted like any resolved image.
        if (source is IStreamingImageSource streaming && sink is IAppendingSink { CanAppend: true } appending && !request.IsPartial && request.Admit is null)
        {
            return await RunStreamedAsync(request, platforms, streaming, appending, progress, clock, cancellationToken).ConfigureAwait(false);
        }

        await source.PrepareAsync([.. request.Images, .. request.Exclude], platforms, cancellationToken).ConfigureAwait(false);
        var incremental = !request.Force && !request.IsPartial && request.ManifestFormat is null ? sink as IIncrementalSink : null;
        var (planned, failed, converted, unchanged) = await ResolveAllAsync(request, platforms, source, incremental, progress, cancellationToken).ConfigureAwait(false);
        if (planned.Count == 0)
        {
            // Every image failed (bulk mode) or was there already: nothing is written; the caller reports them.
            return new TransferResult(TransferPlan.Empty, failed, null) { Unchanged = unchanged };
        }

        var omitted = request.IsPartial
            ? (await Exclusions.CollectAsync(request, source, cancellationToken).ConfigureAwait(false)).Omit(planned.Select(p => p.Image).ToList())
            : source.LeftOut(planned.Select(p => p.Image).ToList());
        var plan = TransferPlan.Create(planned, omitted, request.Images.Count);
        Diagnostics.Log.Plan(_logger, plan.Blobs.Count, plan.StreamedBytes, plan.UniqueBytes);
        var context = new TransferContext(source, plan, request.MaxConcurrentTransfers, request.Jobs, progress, clock) { LinkCache = request.LinkCache };
        context.Start();
        var report = await sink.WriteAsync(plan, context, cancellationToken).ConfigureAwait(false);
        return new TransferResult(plan, Merged(failed, report), report) { Converted = converted, Unchanged = unchanged };
    }

    /// <summary>What an image is, for events and results.</summary>
    /// <param name="image">The resolved image.</param>
    /// <returns>Its name, digest, platforms and size.</returns>
    public static SavedImage Describe(ResolvedImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return new SavedImage(image.Reference, image.Top.Digest, image.Platforms.Where(p => p.Platform.Os != "unknown").Select(p => p.Platform).ToList(), image.TotalBytes, image.IsSubset);
    }

    /// <summary>
    /// The rules every image passes once its source resolved it, whichever way it came: the platform selection (a
    /// source that cannot resolve selectively is checked here; artifacts have no platform to select), the admission check, the destination name, the
    /// manifest format.
    /// </summary>
    private static async Task<(ResolvedImage Image, IReadOnlyList<ConvertedManifest> Converted)> AdmitAsync(TransferRequest request, PlatformSelection platforms, string requested, ResolvedImage resolved, CancellationToken cancellationToken)
    {
        if (resolved.IsContainerImage && !platforms.FallsBackToAny && !resolved.Platforms.Any(p => platforms.Includes(p.Platform)))
        {
            throw new PlatformNotFoundException($"{resolved.Source}: image is for {string.Join(", ", resolved.Platforms.Select(p => p.Platform).Distinct())} only, which is not selected ({platforms})");
        }

        if (request.Admit is { } admit && await admit(requested, resolved, cancellationToken).ConfigureAwait(false) is { } refusal)
        {
            throw new SignatureRequiredException(refusal);
        }

        if (request.Rename is { } rename)
        {
            resolved = resolved with { Reference = rename(resolved.Reference) };
        }

        return request.ManifestFormat is { } format ? ImageConversion.Apply(resolved, format) : (resolved, []);
    }

    /// <summary>What the source says an image is, under the name the request gives it at the destination.</summary>
    private static async Task<ImageIdentity?> PeekRenamedAsync(TransferRequest request, IImageSource source, string image, PlatformSelection platforms, CancellationToken cancellationToken) =>
        await source.PeekAsync(image, platforms, cancellationToken).ConfigureAwait(false) is { } identity
            ? identity with { Name = request.Rename is { } rename ? rename(identity.Name) : identity.Name }
            : null;

    /// <summary>
    /// An image an incremental destination holds already at the digest the source names now (asked without reading a
    /// blob), or <see langword="null"/> when it must be transferred — or when the source cannot tell without resolving.
    /// </summary>
    private static async Task<UnchangedImage?> UnchangedAsync(TransferRequest request, PlatformSelection platforms, IImageSource source, IIncrementalSink sink, int index, CancellationToken cancellationToken)
    {
        if (await PeekRenamedAsync(request, source, request.Images[index], platforms, cancellationToken).ConfigureAwait(false) is not { } target)
        {
            return null;
        }

        return await sink.FindHeldAsync(target, cancellationToken).ConfigureAwait(false) is { } held
            ? new UnchangedImage(request.Images[index], index + 1, held, target.Digest)
            : null;
    }

    private static async Task<(List<PlannedImage> Planned, List<FailedImage> Failed, List<ConvertedManifest> Converted, List<UnchangedImage> Unchanged)> ResolveAllAsync(TransferRequest request, PlatformSelection platforms, IImageSource source, IIncrementalSink? incremental, IProgress<TransferEvent>? progress, CancellationToken cancellationToken)
    {
        var count = request.Images.Count;
        var results = new (ResolvedImage Image, IReadOnlyList<ConvertedManifest> Converted)?[count];
        var failures = new ConcurrentDictionary<int, FailedImage>();
        var unchanged = new ConcurrentDictionary<int, UnchangedImage>();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, count),
            new ParallelOptions { MaxDegreeOfParallelism = request.Jobs, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                try
                {
                    if (incremental is not null && await UnchangedAsync(request, platforms, source, incremental, i, ct).ConfigureAwait(false) is { } same)
                    {
                        unchanged[i] = same;
                        progress?.Report(new ImageUnchangedEvent(same, count));
                        return;
                    }

                    var resolved = await source.ResolveAsync(request.Images[i], platforms, ct).ConfigureAwait(false);
                    results[i] = await AdmitAsync(request, platforms, request.Images[i], resolved, ct).ConfigureAwait(false);
                    progress?.Report(new ImageResolvedEvent(Describe(results[i]!.Value.Image), i + 1, count));
                }
                catch (FerryException ex) when (request.ContinueOnError)
                {
                    var failure = FailedImage.From(request.Images[i], i + 1, ex);
                    failures[i] = failure;
                    progress?.Report(new ImageFailedEvent(failure, count));
                }
            }).ConfigureAwait(false);

        var planned = new List<PlannedImage>();
        var converted = new List<ConvertedManifest>();
        for (var i = 0; i < count; i++)
        {
            if (results[i] is { } result)
            {
                planned.Add(new PlannedImage(result.Image, i + 1, request.Images[i]));
                converted.AddRange(result.Converted);
            }
        }

        return (planned, failures.OrderBy(f => f.Key).Select(f => f.Value).ToList(), converted, unchanged.OrderBy(u => u.Key).Select(u => u.Value).ToList());
    }

    /// <summary>Every failure of the run in request order: the images that did not resolve and those the sink could not take.</summary>
    private static List<FailedImage> Merged(IReadOnlyList<FailedImage> failed, SinkReport report) =>
        [.. failed.Concat(report.Failed).OrderBy(f => f.Position)];

    private async Task<TransferResult> RunStreamedAsync(TransferRequest request, PlatformSelection platforms, IStreamingImageSource source, IAppendingSink sink, IProgress<TransferEvent>? progress, Stopwatch clock, CancellationToken cancellationToken)
    {
        var appender = new ReportingAppender(sink.BeginAppend(), progress);
        try
        {
            var streamed = await source.StreamAsync(request.Images, platforms, appender, request.ContinueOnError, cancellationToken).ConfigureAwait(false);
            var planned = new List<PlannedImage>();
            var failed = new List<FailedImage>();
            var converted = new List<ConvertedManifest>();
            for (var i = 0; i < streamed.Count; i++)
            {
                if (streamed[i].Image is { } image)
                {
                    var admitted = await AdmitAsync(request, platforms, request.Images[i], image, cancellationToken).ConfigureAwait(false);
                    planned.Add(new PlannedImage(admitted.Image, i + 1, request.Images[i]));
                    converted.AddRange(admitted.Converted);
                }
                else
                {
                    var failure = FailedImage.From(request.Images[i], i + 1, streamed[i].Failure ?? new Errors.DaemonException("failed"));
                    failed.Add(failure);
                    progress?.Report(new ImageFailedEvent(failure, request.Images.Count));
                }
            }

            if (planned.Count == 0)
            {
                sink.AbandonAppend();
                return new TransferResult(TransferPlan.Empty, failed, null);
            }

            var plan = TransferPlan.Create(planned, [], request.Images.Count);
            Diagnostics.Log.Plan(_logger, plan.Blobs.Count, appender.Bytes, plan.UniqueBytes);
            var report = await sink.FinishAppendAsync(plan, cancellationToken).ConfigureAwait(false);
            foreach (var image in planned)
            {
                progress?.Report(new ImageWrittenEvent(Describe(image.Image), image.Position, request.Images.Count, clock.Elapsed));
            }

            return new TransferResult(plan, Merged(failed, report), report) { Converted = converted };
        }
        catch
        {
            sink.AbandonAppend();
            throw;
        }
    }

    /// <summary>Reports each appended blob's bytes as they land.</summary>
    private sealed class ReportingAppender(IBlobAppender inner, IProgress<TransferEvent>? progress) : IBlobAppender
    {
        private long _bytes;

        public long Bytes => Interlocked.Read(ref _bytes);

        public async Task<Reading.HashedBlob> AppendAsync(Stream data, long length, bool compress, References.Digest? expected, CancellationToken cancellationToken)
        {
            var blob = await inner.AppendAsync(data, length, compress, expected, cancellationToken).ConfigureAwait(false);
            Interlocked.Add(ref _bytes, blob.Descriptor.Size);
            progress?.Report(new BytesTransferredEvent(blob.Descriptor.Size) { Blob = blob.Descriptor.Digest });
            return blob;
        }
    }
}
