using System.Security.Cryptography;
using Ferry.Errors;

namespace Ferry.Saving;

/// <summary>
/// A <c>sha256sum -c</c> file beside an archive (<c>bundle.tar.sha256</c>): <c>HEX␠␠NAME</c> per line, names relative
/// to the file's directory — the archive, or every file of a layout directory. Media and mirrors check it with the
/// standard tool, no Ferry needed; it appears atomically.
/// </summary>
public static class ChecksumFile
{
    /// <summary>Hashes the archive (a file, or every file under a directory) and writes <c>PATH.sha256</c>.</summary>
    /// <param name="archive">The archive written.</param>
    /// <param name="cancellationToken">Cancels the hashing; nothing is left behind.</param>
    /// <returns>The checksum file's path.</returns>
    public static async Task<string> WriteAsync(string archive, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(archive);
        var full = Path.GetFullPath(archive.TrimEnd('/'));
        IEnumerable<string> files = Directory.Exists(full)
            ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            : File.Exists(full) ? [full] : throw new OutputException($"{archive} does not exist: nothing to checksum");
        return await WriteAsync(files, full + ".sha256", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hashes <paramref name="files"/> (e.g. the parts of a split archive) into one checksum file.</summary>
    /// <param name="files">The files, in the order they are listed.</param>
    /// <param name="target">The checksum file; names in it are relative to its directory.</param>
    /// <param name="cancellationToken">Cancels the hashing; nothing is left behind.</param>
    /// <returns>The checksum file's path.</returns>
    public static async Task<string> WriteAsync(IEnumerable<string> files, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        target = Path.GetFullPath(target);
        var parent = Path.GetDirectoryName(target)!;
        var temporary = Path.Combine(parent, Content.Debris.TemporaryName(target));
        try
        {
            await using (var writer = new StreamWriter(new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None)))
            {
                foreach (var file in files.Select(Path.GetFullPath))
                {
                    await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
                    var hash = await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
                    await writer.WriteAsync($"{Convert.ToHexStringLower(hash)}  {Path.GetRelativePath(parent, file)}\n".AsMemory(), cancellationToken).ConfigureAwait(false);
                }
            }

            File.Move(temporary, target, overwrite: true);
            return target;
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }
}
