using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ferry.Archives;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;

namespace Ferry.Saving;

/// <summary>
/// Images taken from a Docker Engine: every requested image is looked up (<c>/images/{name}/json</c>; a missing
/// one fails alone), then all of them are exported in one <c>GET /images/get</c> stream into a temporary file Ferry
/// owns — an error the daemon appends after the tar, or a cut stream, fails the save — and repacked: layers keyed
/// by digest and stored once, manifests built from the configs (layer digests computed, diff_ids checked), so the
/// archive has the same layout as a registry save. Name forms: <c>name:tag</c>, <c>name@digest</c>, image IDs
/// (full or short; the image is then named by its first tag).
/// </summary>
public sealed partial class DaemonImageSource(DockerEngineClient engine) : IImageSource, IDisposable
{
    private readonly Dictionary<string, DaemonImage> _inspected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FerryException> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ArchivedImage> _byConfig = new(StringComparer.Ordinal);
    private ImageArchive? _archive;
    private string? _temporary;

    /// <inheritdoc />
    public async Task PrepareAsync(IReadOnlyList<string> images, SaveRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(images);
        foreach (var image in images.Select(i => i.Trim()).Distinct(StringComparer.Ordinal).Where(i => !_inspected.ContainsKey(i)))
        {
            try
            {
                _inspected[image] = await engine.InspectImageAsync(image, cancellationToken).ConfigureAwait(false);
            }
            catch (ImageNotFoundException ex)
            {
                _failures[image] = ex;
            }
        }

        var ids = _inspected.Values.Select(i => i.Id).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count == 0)
        {
            return;
        }

        _temporary = Directory.CreateTempSubdirectory("ferry-daemon-").FullName;
        var export = Path.Combine(_temporary, "export.tar");
        await using (var file = new FileStream(export, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
        {
            await engine.ExportAsync(ids, file, cancellationToken).ConfigureAwait(false);
        }

        await CheckTailAsync(export, cancellationToken).ConfigureAwait(false);
        try
        {
            _archive = await ImageArchive.OpenAsync(export, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidInputException ex)
        {
            throw new DaemonException($"the Docker daemon ({engine.Host}) sent a broken export: {ex.Message}", ex);
        }

        foreach (var archived in _archive.Images)
        {
            var manifest = await _archive.ReadManifestAsync(archived.Top, cancellationToken).ConfigureAwait(false);
            _byConfig.TryAdd(manifest.Config!.Digest.ToString(), archived);
        }
    }

    /// <inheritdoc />
    public async Task<ImageIdentity?> PeekAsync(string image, SaveRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var info = await engine.InspectImageAsync(image.Trim(), cancellationToken).ConfigureAwait(false);
        _inspected[image.Trim()] = info; // PrepareAsync will not ask again
        return new ImageIdentity(NameFor(image.Trim(), info), Digest.Parse(info.Id), IsConfigDigest: true);
    }

    /// <inheritdoc />
    public async Task<ResolvedImage> ResolveAsync(string image, SaveRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        image = image.Trim();
        if (_failures.TryGetValue(image, out var failure))
        {
            throw failure;
        }

        var info = _inspected[image];
        var name = NameFor(image, info);
        if (_archive is null || !_byConfig.TryGetValue(info.Id, out var archived))
        {
            throw new DaemonException($"{image}: the Docker daemon's export did not contain image {info.Id}");
        }

        var manifest = await _archive.ReadManifestAsync(archived.Top, cancellationToken).ConfigureAwait(false);
        var config = await _archive.ReadSmallBlobAsync(manifest.Config!, 8 * 1024 * 1024, cancellationToken).ConfigureAwait(false);
        var platform = new PlatformImage(ImageConfigInfo.Parse(config, image).Platform, manifest, config);
        return new ResolvedImage(name, manifest, [platform], platform, IsSubset: false, name);
    }

    /// <inheritdoc />
    public Task<Stream> OpenBlobAsync(LayoutBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return Task.FromResult<Stream>(_archive!.OpenBlob(blob.Descriptor));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _archive?.Dispose();
        if (_temporary is not null && Directory.Exists(_temporary))
        {
            Directory.Delete(_temporary, recursive: true);
        }
    }

    /// <summary>The name the archive records: the reference as given, or for an image ID its first tag.</summary>
    internal static ImageReference NameFor(string image, DaemonImage info)
    {
        var hex = info.Id.StartsWith("sha256:", StringComparison.Ordinal) ? info.Id[7..] : info.Id;
        var asId = image.StartsWith("sha256:", StringComparison.Ordinal) ? image[7..] : image;
        if (ImageIdPattern().IsMatch(asId) && hex.StartsWith(asId, StringComparison.Ordinal))
        {
            var tag = info.RepoTags.FirstOrDefault(t => t != "<none>:<none>")
                      ?? throw new InvalidInputException($"{image}: image {info.Id[..Math.Min(19, info.Id.Length)]} has no tag to name it by in the archive; tag it first (docker tag)");
            return ImageReference.Parse(tag);
        }

        return ImageReference.Parse(image);
    }

    /// <summary>
    /// After the tar's end blocks there must be nothing but zeros. The daemon appends a JSON error there when an
    /// export fails after it started sending (its status is already 200).
    /// </summary>
    private async Task CheckTailAsync(string export, CancellationToken cancellationToken)
    {
        await using var file = new FileStream(export, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        long end;
        try
        {
            (_, end) = await TarIndexer.IndexWithEndAsync(file, $"the export of {engine.Host}", 1_000_000, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidInputException ex)
        {
            throw new DaemonException($"the Docker daemon ({engine.Host}) sent a broken export (cut or corrupt): {ex.Message}", ex);
        }

        var tailLength = (int)Math.Min(file.Length - end, 64 * 1024);
        if (tailLength <= 0)
        {
            return;
        }

        var tail = new byte[tailLength];
        await RandomAccess.ReadAsync(file.SafeFileHandle, tail, end, cancellationToken).ConfigureAwait(false);
        var text = Encoding.UTF8.GetString(tail).Trim('\0', ' ', '\n', '\r');
        if (text.Length == 0)
        {
            return;
        }

        var message = DaemonErrors.MessageOf(text);
        throw new DaemonException($"the Docker daemon ({engine.Host}) reported an error in the middle of the export: {message}");
    }

    [GeneratedRegex("^[0-9a-f]{12,64}$")]
    private static partial Regex ImageIdPattern();
}
