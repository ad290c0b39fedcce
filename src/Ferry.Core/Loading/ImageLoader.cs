using System.Collections.Concurrent;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Loading;

/// <summary>
/// Pushes the images of archives into a registry with their bytes unchanged, so every manifest digest equals
/// the source's: each image's blobs are verified first, then blobs the target lacks are mounted from another
/// repository of the same registry (when this run already pushed them there) or uploaded, streaming from the
/// archive; child manifests go before their index, and the tag last. One failing image does not stop the others.
/// </summary>
public sealed class ImageLoader(RegistryClient registry)
{
    private readonly ConcurrentDictionary<(string Repository, Digest Digest), Lazy<Task<BlobOutcome>>> _blobs = new();
    private readonly ConcurrentDictionary<Digest, string> _pushedIn = new();
    private readonly ConcurrentDictionary<(ImageArchive Archive, Digest Digest), Lazy<Task>> _verified = new();
    private readonly SemaphoreSlim _hashing = new(Environment.ProcessorCount);
    private string? _mountFrom;

    private enum BlobOutcome
    {
        Existing,
        Mounted,
        Uploaded,
    }

    /// <summary>Loads every image of every archive.</summary>
    /// <param name="request">What to load where.</param>
    /// <param name="progress">Receives an event per image.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What was pushed and what failed.</returns>
    /// <exception cref="InvalidInputException">The target is malformed or an archive cannot be read at all.</exception>
    public async Task<LoadResult> LoadAsync(LoadRequest request, IProgress<LoadEvent>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (targetRegistry, prefix) = ParseTarget(request.Target);
        _blobs.Clear();
        _pushedIn.Clear();
        _verified.Clear();
        var loaded = new ConcurrentBag<(int Order, LoadedImage Image)>();
        var failed = new ConcurrentBag<(int Order, LoadFailure Failure)>();
        using var uploads = new SemaphoreSlim(Math.Clamp(request.MaxConcurrentUploads, 1, 32));
        var archives = new List<ImageArchive>();
        try
        {
            foreach (var path in request.Archives)
            {
                archives.Add(await ImageArchive.OpenAsync(path, cancellationToken).ConfigureAwait(false));
            }

            var work = archives.SelectMany(a => a.Images.Select(i => (Archive: a, Image: i))).Select((w, order) => (w.Archive, w.Image, Order: order)).ToList();
            await CheckOmittedAsync(work.Select(w => (w.Archive, w.Image)).ToList(), targetRegistry, prefix, request.MountFrom, cancellationToken).ConfigureAwait(false);
            _mountFrom = request.MountFrom;
            await Parallel.ForEachAsync(work, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(request.Jobs, 1, 20), CancellationToken = cancellationToken }, async (item, token) =>
            {
                var source = item.Image.Name ?? $"(unnamed image {item.Image.Top.Digest.Short})";
                try
                {
                    var image = await LoadImageAsync(item.Archive, item.Image, targetRegistry, prefix, uploads, token).ConfigureAwait(false);
                    loaded.Add((item.Order, image));
                    progress?.Report(new ImageLoadedEvent(image));
                }
                catch (FerryException ex)
                {
                    var failure = new LoadFailure(source, item.Archive.File.Path, ex.Message);
                    failed.Add((item.Order, failure));
                    progress?.Report(new ImageLoadFailedEvent(failure));
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            foreach (var archive in archives)
            {
                archive.Dispose();
            }
        }

        return new LoadResult(loaded.OrderBy(l => l.Order).Select(l => l.Image).ToList(), failed.OrderBy(f => f.Order).Select(f => f.Failure).ToList());
    }

    /// <summary>Where an archived name goes: the target registry, the prefix, then the source's repository path and tag.</summary>
    /// <param name="sourceName">The name in the archive.</param>
    /// <param name="targetRegistry">The registry host.</param>
    /// <param name="prefix">The path prefix, or empty.</param>
    /// <returns>The target reference.</returns>
    public static ImageReference TargetFor(string sourceName, string targetRegistry, string prefix)
    {
        var source = ImageReference.Parse(sourceName);
        var repository = prefix.Length == 0 ? source.Repository : $"{prefix}/{source.Repository}";
        var text = $"{targetRegistry}/{repository}" + (source.Tag is { } tag ? ":" + tag : string.Empty) + (source.Tag is null && source.Digest is { } digest ? "@" + digest : string.Empty);
        return ImageReference.Parse(text);
    }

    /// <summary>Splits a <c>--to</c> value into the registry host and the path prefix.</summary>
    /// <param name="target"><c>host[:port][/prefix]</c>, optionally with a URL scheme.</param>
    /// <returns>The registry and the prefix (empty when none).</returns>
    /// <exception cref="InvalidInputException">Not a registry reference.</exception>
    public static (string Registry, string Prefix) ParseTarget(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var trimmed = target.Trim().TrimEnd('/');
        var scheme = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            trimmed = trimmed[(scheme + 3)..];
        }

        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? trimmed : trimmed[..slash];
        var prefix = slash < 0 ? string.Empty : trimmed[(slash + 1)..];
        var valid = ImageReference.TryParse($"{host}/{(prefix.Length == 0 ? "x" : prefix + "/x")}:t", out var check, out var error);
        if (host.Length == 0 || !valid || check!.Registry != host)
        {
            throw new InvalidInputException($"--to {target} is not a registry host[:port][/prefix]{(error is null ? string.Empty : ": " + error)}");
        }

        return (host, prefix);
    }

    /// <summary>
    /// Before anything is pushed: every layer a partial archive leaves out must already be in its target repository,
    /// or in the <c>--mount-from</c> repository of the same registry. Otherwise the load stops, naming what is missing.
    /// </summary>
    private async Task CheckOmittedAsync(List<(ImageArchive Archive, ArchivedImage Image)> work, string targetRegistry, string prefix, string? mountFrom, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var (archive, image) in work.Where(w => w.Archive.Omitted.Count > 0 && w.Image.Name is not null))
        {
            var target = TargetFor(image.Name!, targetRegistry, prefix);
            var source = mountFrom is null ? null : ImageReference.Parse($"{targetRegistry}/{mountFrom}:x");
            foreach (var layer in (await archive.WalkAsync(image.Top, cancellationToken).ConfigureAwait(false)).Where(d => archive.Omitted.ContainsKey(d.Digest)))
            {
                if (await registry.BlobExistsAsync(target, layer, cancellationToken).ConfigureAwait(false) ||
                    (source is not null && await registry.BlobExistsAsync(source, layer, cancellationToken).ConfigureAwait(false)))
                {
                    continue;
                }

                missing.Add($"{layer.Digest.Short} of {image.Name} (from {archive.Omitted[layer.Digest].ExcludedBy})");
            }
        }

        if (missing.Count > 0)
        {
            throw new InvalidInputException($"the partial archive leaves out {missing.Count} layer(s) that {targetRegistry} does not have{(mountFrom is null ? string.Empty : $" (nor {mountFrom})")}; nothing was pushed. Missing: {string.Join(", ", missing.Distinct().Take(10))}{(missing.Count > 10 ? ", …" : string.Empty)}. Load the excluded images first, or name the repository that holds them with --mount-from");
        }
    }

    private async Task<LoadedImage> LoadImageAsync(ImageArchive archive, ArchivedImage image, string targetRegistry, string prefix, SemaphoreSlim uploads, CancellationToken cancellationToken)
    {
        if (image.Name is null)
        {
            throw new InvalidInputException($"{archive.File.Path}: image {image.Top.Digest.Short} has no name in the archive; nothing to push it as");
        }

        var target = TargetFor(image.Name, targetRegistry, prefix);
        var descriptors = await archive.WalkAsync(image.Top, cancellationToken).ConfigureAwait(false);
        // Each blob is verified once per run, however many images share it; layers a partial archive leaves out are checked in the target instead.
        await Task.WhenAll(descriptors.Where(d => !archive.Omitted.ContainsKey(d.Digest)).Select(d => _verified.GetOrAdd((archive, d.Digest), _ => new Lazy<Task>(() => VerifyAsync(archive, d, cancellationToken))).Value)).ConfigureAwait(false);

        var blobs = descriptors.Where(d => !IsManifest(d)).ToList();
        var outcomes = await Task.WhenAll(blobs.Select(blob => EnsureBlobAsync(archive, target, blob, uploads, cancellationToken))).ConfigureAwait(false);

        foreach (var manifest in descriptors.Where(IsManifest).Where(d => d.Digest != image.Top.Digest))
        {
            var bytes = await archive.ReadSmallBlobAsync(manifest, ImageArchiveReader.MaxJsonBytes, cancellationToken).ConfigureAwait(false);
            await registry.PutManifestAsync(target, manifest.Digest.ToString(), bytes, manifest.MediaType, cancellationToken).ConfigureAwait(false);
        }

        var topBytes = await archive.ReadSmallBlobAsync(image.Top, ImageArchiveReader.MaxJsonBytes, cancellationToken).ConfigureAwait(false);
        var digest = await registry.PutManifestAsync(target, target.Tag ?? image.Top.Digest.ToString(), topBytes, image.Top.MediaType, cancellationToken).ConfigureAwait(false);
        var uploadedBytes = blobs.Zip(outcomes).Where(p => p.Second == BlobOutcome.Uploaded).Sum(p => p.First.Size);
        return new LoadedImage(image.Name, target, digest, image.BuiltFromLayers,
            outcomes.Count(o => o == BlobOutcome.Uploaded), outcomes.Count(o => o == BlobOutcome.Mounted), outcomes.Count(o => o == BlobOutcome.Existing), uploadedBytes);
    }

    private async Task VerifyAsync(ImageArchive archive, Descriptor descriptor, CancellationToken cancellationToken)
    {
        await _hashing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await archive.VerifyBlobsAsync([descriptor], cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _hashing.Release();
        }
    }

    private Task<BlobOutcome> EnsureBlobAsync(ImageArchive archive, ImageReference target, Descriptor blob, SemaphoreSlim uploads, CancellationToken cancellationToken) =>
        _blobs.GetOrAdd((target.Name, blob.Digest), _ => new Lazy<Task<BlobOutcome>>(() => PushBlobAsync(archive, target, blob, uploads, cancellationToken))).Value;

    private async Task<BlobOutcome> PushBlobAsync(ImageArchive archive, ImageReference target, Descriptor blob, SemaphoreSlim uploads, CancellationToken cancellationToken)
    {
        await uploads.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (await registry.BlobExistsAsync(target, blob, cancellationToken).ConfigureAwait(false))
            {
                _pushedIn.TryAdd(blob.Digest, target.Repository);
                return BlobOutcome.Existing;
            }

            if (archive.Omitted.TryGetValue(blob.Digest, out var omitted))
            {
                if (_mountFrom is not null && await registry.MountBlobAsync(target, blob, _mountFrom, cancellationToken).ConfigureAwait(false))
                {
                    return BlobOutcome.Mounted;
                }

                throw new InvalidInputException($"{target}: layer {blob.Digest.Short} (left out of the partial archive, from {omitted.ExcludedBy}) is not in {target.Registry}");
            }

            if (_pushedIn.TryGetValue(blob.Digest, out var from) && from != target.Repository &&
                await registry.MountBlobAsync(target, blob, from, cancellationToken).ConfigureAwait(false))
            {
                return BlobOutcome.Mounted;
            }

            await registry.UploadBlobAsync(target, blob, () => archive.OpenBlob(blob), cancellationToken).ConfigureAwait(false);
            _pushedIn.TryAdd(blob.Digest, target.Repository);
            return BlobOutcome.Uploaded;
        }
        finally
        {
            uploads.Release();
        }
    }

    private static bool IsManifest(Descriptor descriptor) => MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType);
}
