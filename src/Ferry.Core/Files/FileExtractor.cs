using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;

namespace Ferry.Files;

/// <summary>A file written back out of an artifact.</summary>
/// <param name="Path">Where it was written.</param>
/// <param name="Digest">Its digest (checked while it was written).</param>
/// <param name="Size">Its size.</param>
public sealed record ExtractedFile(string Path, Digest Digest, long Size);

/// <summary>
/// <c>ferry extract</c>: writes an artifact's files out of a bundle without a registry, as <c>oras pull</c> writes them
/// — each layer named by its <c>org.opencontainers.image.title</c> into one directory. Every byte is checked against
/// its digest before the file appears; a title that is not a plain file name (a path, <c>..</c>) is refused; files
/// appear only once all of them are written (each through a new temporary file renamed into place, so a link planted
/// at a file's name is replaced, never followed); an existing file is replaced only when asked.
/// </summary>
internal static class FileExtractor
{
    public static async Task<IReadOnlyList<ExtractedFile>> ExtractAsync(string archivePath, string name, string directory, bool overwrite, ArchiveLimits? limits, CancellationToken cancellationToken)
    {
        using var archive = await ImageArchive.OpenAsync(archivePath, limits, cancellationToken).ConfigureAwait(false);
        var wanted = ImageReference.TryParse(name, out var reference, out var why) ? reference!.ToString() : throw new InvalidInputException($"{name}: {why}");
        var image = archive.Images.FirstOrDefault(i => i.Name is { } n && ImageReference.TryParse(n, out var r, out _) && r!.ToString() == wanted)
            ?? throw new ImageNotFoundException($"{name} is not in {archivePath} (it holds {string.Join(", ", archive.Images.Select(i => i.Name ?? i.Top.Digest.Short).Take(10))})");
        var manifest = await archive.ReadManifestAsync(image.Top, cancellationToken).ConfigureAwait(false);
        if (manifest.IsIndex)
        {
            throw new UnsupportedContentException($"{name} is an index; ferry extract writes the files of one artifact");
        }

        if (MediaTypes.IsImageConfig(manifest.Config!.MediaType))
        {
            throw new UnsupportedContentException($"{name} is a container image, not a file artifact: load it (ferry load, docker load) instead");
        }

        var files = TitledLayers(manifest, name);
        Directory.CreateDirectory(directory);
        var written = new List<(string Temporary, string Target, ExtractedFile File)>();
        try
        {
            foreach (var (layer, title) in files)
            {
                var target = Path.Combine(directory, title);
                if (!overwrite && (File.Exists(target) || Directory.Exists(target) || new FileInfo(target).LinkTarget is not null))
                {
                    throw new OutputException($"{target} exists (Overwrite replaces it)");
                }

                var temporary = Path.Combine(directory, $".{title}.{Guid.NewGuid():N}.ferry-partial");
                written.Add((temporary, target, new ExtractedFile(target, layer.Digest, layer.Size)));
                await using var output = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
                await using var input = archive.OpenBlob(layer);
                await input.CopyToAsync(output, 1 << 16, cancellationToken).ConfigureAwait(false);
            }

            foreach (var (temporary, target, _) in written)
            {
                File.Move(temporary, target, overwrite);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Remove(written);
            throw new OutputException($"{directory}: {ex.Message}");
        }
        catch
        {
            Remove(written);
            throw;
        }

        return [.. written.Select(w => w.File)];
    }

    /// <summary>Each layer and the file name its title gives; a title that would leave the directory is refused.</summary>
    private static List<(Descriptor Layer, string Title)> TitledLayers(ManifestDocument manifest, string name)
    {
        using var document = JsonDocument.Parse(manifest.Content);
        var titles = document.RootElement.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array
            ? layers.EnumerateArray().Select(l => l.ValueKind == JsonValueKind.Object ? ManifestDocument.ReadAnnotations(l).GetValueOrDefault(FileArtifact.TitleAnnotation) : null).ToList()
            : [];
        var files = new List<(Descriptor, string)>();
        for (var i = 0; i < manifest.Layers.Count && i < titles.Count; i++)
        {
            if (titles[i] is not { } title)
            {
                continue;
            }

            if (title.Length == 0 || title is "." or ".." || title.IndexOfAny(['/', '\\', '\0']) >= 0 || title.Any(char.IsControl) || title.Length > 255)
            {
                throw new UnsupportedContentException($"{name}: layer {manifest.Layers[i].Digest.Short} is titled '{new string(title.Where(c => !char.IsControl(c)).Take(80).ToArray())}', which is not a plain file name; refused");
            }

            files.Add((manifest.Layers[i], title));
        }

        if (files.Select(f => f.Item2).Distinct(StringComparer.Ordinal).Count() != files.Count)
        {
            throw new UnsupportedContentException($"{name}: two layers have the same title; refused");
        }

        return files.Count > 0 ? files : throw new UnsupportedContentException($"{name} has no layer titled with a file name ({FileArtifact.TitleAnnotation}); nothing to extract");
    }

    private static void Remove(List<(string Temporary, string Target, ExtractedFile File)> written)
    {
        foreach (var (temporary, _, _) in written)
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
                // Best effort: the failure that got us here is what the caller hears.
            }
        }
    }
}
