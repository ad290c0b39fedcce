using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Errors;
using Ferry.Inspecting;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.Transfer;

namespace Ferry.Transfer.Sinks;

/// <summary>
/// Idempotence: an output that already holds exactly the requested references at the digests the source names
/// now — same format and compression, a full archive — needs no download and no write. Registries are asked for
/// the top manifests only; a daemon for its image IDs (config digests), compared with the archive's configs.
/// </summary>
internal static class UpToDate
{
    /// <summary>The images as the existing archive describes them (read locally) and its size, when it is up to date.</summary>
    public static async Task<(List<SavedImage> Images, long Bytes)?> CheckAsync(string target, TransferRequest request, ArchiveFormat format, OuterCompression compression, Func<string, CancellationToken, Task<ImageIdentity?>> peek, CancellationToken cancellationToken)
    {
        if (!(File.Exists(target) || Directory.Exists(target)))
        {
            return null;
        }

        var wanted = new List<ImageIdentity>();
        InspectResult inspected;
        try
        {
            foreach (var image in request.Images)
            {
                if (await peek(image, cancellationToken).ConfigureAwait(false) is not { } identity)
                {
                    return null;
                }

                wanted.Add(identity);
            }

            using var archive = await ImageArchive.OpenAsync(target, cancellationToken).ConfigureAwait(false);
            var expected = format == ArchiveFormat.Directory ? "directory"
                : compression switch { OuterCompression.Gzip => "gzip", OuterCompression.Zstd => "zstd", _ => "none" };
            if (archive.File.Compression != expected || archive.Format != "oci-layout" || archive.Omitted.Count > 0)
            {
                return null;
            }

            var present = new HashSet<(string Name, string Digest)>();
            foreach (var image in archive.Images.Where(i => i.Name is not null))
            {
                present.Add((image.Name!, image.Top.Digest.ToString()));
                if (MediaTypes.IsImageManifest(image.Top.MediaType))
                {
                    var manifest = await archive.ReadManifestAsync(image.Top, cancellationToken).ConfigureAwait(false);
                    present.Add((image.Name!, "config " + manifest.Config!.Digest));
                }
            }

            var matches = wanted.All(w => present.Contains((w.Name.ToString(), (w.IsConfigDigest ? "config " : string.Empty) + w.Digest))) &&
                          archive.Images.Select(i => i.Name).Distinct().Count() == wanted.Select(w => w.Name.ToString()).Distinct().Count();
            if (!matches)
            {
                return null;
            }

            // "Up to date" vouches for the bytes too: every blob it would have written hashes to its digest, sized right.
            if (!(await ArchiveVerifier.VerifyOpenedAsync(archive, null, cancellationToken).ConfigureAwait(false)).IsValid)
            {
                return null;
            }

            // Described from the archive already open: a compressed one is not unpacked a second time.
            inspected = await ArchiveInspector.InspectAsync(archive, target, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FerryException or IOException or System.Text.Json.JsonException)
        {
            return null; // Whatever is there is not a Ferry archive of these images (or the source failed): save for real.
        }

        var images = inspected.Images.Where(i => i.Name is not null)
            .Select(i => new SavedImage(References.ImageReference.Parse(i.Name!), i.Digest, i.Platforms.Select(References.Platform.Parse).ToList(), i.Size, false)).ToList();
        var bytes = File.Exists(target) ? new FileInfo(target).Length : Directory.EnumerateFiles(target, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        return (images, bytes);
    }
}
