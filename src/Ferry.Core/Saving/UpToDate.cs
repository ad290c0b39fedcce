using System.Text.Json;
using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Errors;
using Ferry.Reading;

namespace Ferry.Saving;

/// <summary>
/// Idempotence: an output that already holds exactly the requested references at the digests the source
/// resolves to now — same format and compression, a full archive — needs no download and no write.
/// </summary>
internal static class UpToDate
{
    /// <summary>
    /// When every requested image can be named and digested without a download and the output holds exactly
    /// those: the images as the existing archive describes them (read locally) and its size.
    /// </summary>
    public static async Task<(List<SavedImage> Images, long Bytes)?> CheckAsync(string target, SaveRequest request, IImageSource source, CancellationToken cancellationToken)
    {
        if (request.Force || request.Exclude.Count > 0 || request.ExcludeArchives.Count > 0 || !(File.Exists(target) || Directory.Exists(target)))
        {
            return null;
        }

        var wanted = new List<(string Name, string Digest)>();
        try
        {
            foreach (var image in request.Images)
            {
                if (await source.PeekAsync(image, request, cancellationToken).ConfigureAwait(false) is not { } peek)
                {
                    return null;
                }

                wanted.Add((peek.Name.ToString(), peek.Top.ToString()));
            }
        }
        catch (FerryException)
        {
            return null; // Let the real resolution report it, image by image.
        }

        if (await CheckAsync(target, request, wanted, cancellationToken).ConfigureAwait(false) is not { } bytes)
        {
            return null;
        }

        var inspected = await ArchiveInspector.InspectAsync(target, cancellationToken).ConfigureAwait(false);
        var images = inspected.Images.Where(i => i.Name is not null).Select(i => new SavedImage(References.ImageReference.Parse(i.Name!), i.Digest, i.Platforms.Select(References.Platform.Parse).ToList(), i.Size, false)).ToList();
        return (images, bytes);
    }

    /// <summary>The existing archive's size when it is up to date; <see langword="null"/> when it must be (re)written.</summary>
    private static async Task<long?> CheckAsync(string target, SaveRequest request, IReadOnlyList<(string Name, string Digest)> wantedList, CancellationToken cancellationToken)
    {
        if (request.Exclude.Count > 0 || request.ExcludeArchives.Count > 0 || !(File.Exists(target) || Directory.Exists(target)))
        {
            return null;
        }

        try
        {
            using var archive = await ArchiveFile.OpenAsync(target, cancellationToken).ConfigureAwait(false);
            var expected = request.Format == ArchiveFormat.Directory ? "directory"
                : request.Compression switch { OuterCompression.Gzip => "gzip", OuterCompression.Zstd => "zstd", _ => "none" };
            if (archive.Compression != expected || !archive.Contains("index.json") || archive.Contains(ImageLayout.PartialFileName))
            {
                return null;
            }

            var wanted = wantedList.ToHashSet();
            using var index = JsonDocument.Parse(await archive.ReadSmallAsync("index.json", 4 * 1024 * 1024, cancellationToken).ConfigureAwait(false));
            var present = new HashSet<(string, string)>();
            foreach (var entry in index.RootElement.GetProperty("manifests").EnumerateArray())
            {
                var name = entry.TryGetProperty("annotations", out var a) && a.TryGetProperty(LayoutBuilder.ImageNameAnnotation, out var n) ? n.GetString() : null;
                present.Add((name ?? string.Empty, entry.GetProperty("digest").GetString() ?? string.Empty));
            }

            return present.SetEquals(wanted)
                ? File.Exists(target) ? new FileInfo(target).Length : Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length)
                : null;
        }
        catch (Exception ex) when (ex is FerryException or JsonException or IOException or KeyNotFoundException or InvalidOperationException)
        {
            return null; // Whatever is there is not a Ferry archive of these images: write a new one.
        }
    }
}
