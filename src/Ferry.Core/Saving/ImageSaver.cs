using Ferry.Archives;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Saving;

/// <summary>
/// Saves images from registries into one archive. First every manifest and config is fetched and
/// verified (small, in memory); then the archive's exact layout is known and layers stream once from the
/// network to their place in the output, in parallel, verified while they stream.
/// </summary>
public sealed class ImageSaver
{
    private readonly RegistryClient _registry;
    private readonly ILogger _logger;

    /// <summary>Creates a saver.</summary>
    /// <param name="registry">The registry client to pull with.</param>
    /// <param name="logger">Receives debug detail; nothing when <see langword="null"/>.</param>
    public ImageSaver(RegistryClient registry, ILogger? logger = null)
    {
        _registry = registry;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Saves the requested images.</summary>
    /// <param name="request">What to save and where.</param>
    /// <param name="progress">Receives progress events, in order.</param>
    /// <param name="cancellationToken">Cancels the save; no partial output is left behind.</param>
    /// <returns>What was saved.</returns>
    /// <exception cref="FerryException">Any failure: bad reference, missing image, registry or output error.</exception>
    public async Task<SaveResult> SaveAsync(SaveRequest request, IProgress<TransferEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
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

        var references = request.Images.Select(ImageReference.Parse).DistinctBy(r => r.ToString()).ToList();
        var output = request.OutputStream is null ? AtomicOutput.Prepare(request.Output!) : null;

        var resolver = new ImageResolver(_registry, request.Platforms);
        var resolved = new ResolvedImage[references.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, references.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(request.MaxConcurrentDownloads, 1, 8), CancellationToken = cancellationToken },
            async (i, ct) => resolved[i] = await resolver.ResolveAsync(references[i], ct).ConfigureAwait(false)).ConfigureAwait(false);

        var saved = resolved.Select(ToSavedImage).ToList();
        for (var i = 0; i < saved.Count; i++)
        {
            progress?.Report(new ImageResolvedEvent(saved[i], i + 1, saved.Count));
        }

        var layout = LayoutBuilder.Build(resolved);
        var remoteBytes = layout.Blobs.Where(b => b.Content is null).Sum(b => b.Descriptor.Size);
        var plan = TarLayoutPlan.Create(layout);
        Diagnostics.Log.Plan(_logger, layout.Blobs.Count, remoteBytes, plan.Length);
        progress?.Report(new DownloadStartedEvent(layout.Blobs.Count(b => b.Content is null), remoteBytes));

        long done = 0;
        var context = new LayoutWriteContext(
            OpenBlobAsync,
            Math.Max(1, request.MaxConcurrentDownloads),
            OnBlobDone: blob =>
            {
                var total = Interlocked.Add(ref done, blob.Descriptor.Size);
                progress?.Report(new BlobCompletedEvent(blob.Descriptor.Digest, blob.Descriptor.Size, total, remoteBytes));
            });

        if (output is null)
        {
            await TarStreamWriter.WriteAsync(layout, request.OutputStream!, context, cancellationToken).ConfigureAwait(false);
            return new SaveResult(saved, plan.Length, remoteBytes, null);
        }

        try
        {
            if (request.Format == ArchiveFormat.Directory)
            {
                Directory.CreateDirectory(output.Temporary);
                await DirectoryLayoutWriter.WriteAsync(layout, output.Temporary, context, cancellationToken).ConfigureAwait(false);
                output.CommitDirectory();
                return new SaveResult(saved, layout.BlobBytes, remoteBytes, output.Target);
            }

            using (var file = File.OpenHandle(output.Temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
            {
                await TarFileWriter.WriteAsync(layout, file, context, cancellationToken).ConfigureAwait(false);
            }

            output.CommitFile();
            return new SaveResult(saved, plan.Length, remoteBytes, output.Target);
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

    private async Task<Stream> OpenBlobAsync(LayoutBlob blob, CancellationToken cancellationToken) =>
        await _registry.OpenBlobAsync(blob.Source!, blob.Descriptor, cancellationToken).ConfigureAwait(false);

    private static SavedImage ToSavedImage(ResolvedImage image) =>
        new(image.Reference, image.Top.Digest, image.Platforms.Where(p => p.Platform.Os != "unknown").Select(p => p.Platform).ToList(), image.TotalBytes, image.IsSubset);
}
