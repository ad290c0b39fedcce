using Ferry.Archives.Format;
using Ferry.Content;
using Ferry.Errors;

namespace Ferry.Reading;

/// <summary>
/// Random access to the files of an archive without extracting it: a tar (plain, or gzip/zstd detected by
/// content and decompressed once into a temporary file Ferry owns and deletes), or a directory. Every name is
/// checked (no absolute paths, no <c>..</c>); symbolic and hard links resolve only to files inside the
/// archive, with cycles refused; only regular files are served.
/// </summary>
public sealed class ArchiveFile : IDisposable
{
    private const int MaxLinkHops = 40;
    /// <summary>
    /// The most members a tar may have (200,000 — a bundle of 1,000 images of 30 layers holds about 30,000): past it
    /// the archive is refused before its index grows, so memory stays bounded. Every reader applies it (load, verify,
    /// inspect, a daemon's export).
    /// </summary>
    public const int MaxMembers = 200_000;

    /// <summary>Bytes any compressed input may expand to regardless of ratio (256 MiB).</summary>
    public const long BombAllowance = 256L << 20;
    private readonly Dictionary<string, Entry> _entries;
    private readonly PartedFile? _tar;
    private readonly string? _root;
    private readonly string? _temporaryDirectory;

    private ArchiveFile(string path, string compression, Dictionary<string, Entry> entries, PartedFile? tar, string? root, string? temporaryDirectory, ArchiveLimits limits)
    {
        Limits = limits;
        Path = path;
        Compression = compression;
        _entries = entries;
        _tar = tar;
        _root = root;
        _temporaryDirectory = temporaryDirectory;
    }

    /// <summary>The path the archive was opened from.</summary>
    public string Path { get; }

    /// <summary>The limits this archive is read with.</summary>
    public ArchiveLimits Limits { get; }

    /// <summary><c>none</c>, <c>gzip</c>, <c>zstd</c> or <c>directory</c>.</summary>
    public string Compression { get; }

    /// <summary>The regular files (after link resolution), by normalised name.</summary>
    public IEnumerable<string> Names => _entries.Keys;

    /// <summary>Opens an archive file or layout directory.</summary>
    /// <param name="path">The path.</param>
    /// <param name="limits">How far the archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels decompression and indexing.</param>
    /// <returns>The opened archive; dispose it to remove any temporary file.</returns>
    /// <exception cref="InvalidInputException">Missing, not an archive, or hostile (names escaping it, link cycles, special files).</exception>
    public static async Task<ArchiveFile> OpenAsync(string path, ArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        limits ??= ArchiveLimits.Default;
        if (Directory.Exists(path))
        {
            return new ArchiveFile(path, "directory", IndexDirectory(path), null, System.IO.Path.GetFullPath(path), null, limits);
        }

        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path} does not exist");
        }

        if (Content.PosixFiles.IsPipeOrDevice(path))
        {
            // A pipe or a device (/dev/stdin, <(…), a named pipe) cannot seek: read once into a spool, as stdin is.
            await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0);
            return await OpenAsync(stream, path, limits, cancellationToken).ConfigureAwait(false);
        }

        // A split archive (NAME.000, .001, …) is read across its parts in place; an ordinary file is one part.
        var parts = PartedFile.FindParts(path) ?? [path];
        var compression = CompressionDetector.DetectFile(parts[0]);
        var tar = PartedFile.Open(parts);
        try
        {
            if (compression == DetectedCompression.None)
            {
                return new ArchiveFile(path, "none", await IndexTarAsync(tar, path, cancellationToken).ConfigureAwait(false), tar, null, null, limits);
            }

            await using var input = new SliceStream(tar, 0, tar.Length);
            var spooled = await SpoolAsync(input, path, compression, limits, cancellationToken).ConfigureAwait(false);
            tar.Dispose();
            return spooled;
        }
        catch
        {
            tar.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens an archive read from a stream (a pipe, stdin): a tar needs random access, so the stream is copied —
    /// decompressed when it is gzip or zstd — into one temporary file Ferry owns and removes on dispose or failure.
    /// </summary>
    /// <param name="input">The stream, read to its end.</param>
    /// <param name="displayName">How messages name it (e.g. <c>stdin</c>).</param>
    /// <param name="limits">How far the archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the copy and indexing.</param>
    /// <returns>The opened archive; dispose it to remove the temporary file.</returns>
    /// <exception cref="InvalidInputException">Not an archive, or hostile.</exception>
    public static async Task<ArchiveFile> OpenAsync(Stream input, string displayName, ArchiveLimits? limits = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(displayName);
        var magic = new byte[CompressionDetector.MagicLength];
        var n = await input.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var compression = CompressionDetector.Detect(magic.AsSpan(0, n));
        return await SpoolAsync(new PrefixedStream(magic.AsMemory(0, n), input), displayName, compression, limits ?? ArchiveLimits.Default, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<ArchiveFile> SpoolAsync(Stream input, string displayName, DetectedCompression compression, ArchiveLimits limits, CancellationToken cancellationToken)
    {
        var temporary = Content.Debris.CreateSpool("read");
        PartedFile? tar = null;
        try
        {
            var tarPath = System.IO.Path.Combine(temporary, "archive.tar");
            await SpoolDecompressedAsync(input, displayName, compression, tarPath, limits.MaxExpansion, cancellationToken).ConfigureAwait(false);
            tar = PartedFile.Open(tarPath);
            var entries = await IndexTarAsync(tar, displayName, cancellationToken).ConfigureAwait(false);
            return new ArchiveFile(displayName, CompressionDetector.Name(compression), entries, tar, null, temporary, limits);
        }
        catch (IOException ex) when (Content.DiskSpace.IsFull(ex))
        {
            var written = File.Exists(System.IO.Path.Combine(temporary, "archive.tar")) ? new FileInfo(System.IO.Path.Combine(temporary, "archive.tar")).Length : 0;
            tar?.Dispose();
            Directory.Delete(temporary, recursive: true);
            throw Content.Debris.SpoolFull(temporary, written, ex);
        }
        catch
        {
            tar?.Dispose();
            Directory.Delete(temporary, recursive: true);
            throw;
        }
    }

    /// <summary>Whether the archive holds a regular file of that name.</summary>
    /// <param name="name">A name, relative to the archive root.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(string name) => EntryNames.Normalize(name) is { } normalized && _entries.ContainsKey(normalized);

    /// <summary>The size of a file.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The size in bytes.</returns>
    /// <exception cref="InvalidInputException">The file is not in the archive.</exception>
    public long SizeOf(string name) => Find(name).Size;

    /// <summary>Opens a file for reading (a bounded view; many may be open at once).</summary>
    /// <param name="name">The name.</param>
    /// <returns>A read-only stream of exactly the file's bytes.</returns>
    /// <exception cref="InvalidInputException">The file is not in the archive.</exception>
    public Stream Open(string name)
    {
        var entry = Find(name);
        if (_root is not null)
        {
            return new FileStream(System.IO.Path.Combine(_root, entry.Name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
        }

        return new SliceStream(_tar!, entry.Offset, entry.Size);
    }

    /// <summary>Opens a byte range of a file (a <c>Range</c> request to <c>ferry serve</c>), positional reads, nothing copied.</summary>
    internal Stream Open(string name, long offset, long length)
    {
        var entry = Find(name);
        if (offset < 0 || length < 0 || offset + length > entry.Size)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), "the range is outside the file");
        }

        if (_root is not null)
        {
            var file = new FileStream(System.IO.Path.Combine(_root, entry.Name), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous);
            file.Position = offset;
            return new Content.BoundedReadStream(file, length, "the file ended inside the range", ownsInner: true);
        }

        return new SliceStream(_tar!, entry.Offset + offset, length);
    }

    /// <summary>Reads a small file (JSON) whole, refusing anything above <paramref name="limit"/> bytes.</summary>
    /// <param name="name">The name.</param>
    /// <param name="limit">The cap.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="InvalidInputException">Missing, or larger than the cap.</exception>
    public async Task<byte[]> ReadSmallAsync(string name, int limit, CancellationToken cancellationToken = default)
    {
        var entry = Find(name);
        if (entry.Size > limit)
        {
            throw new InvalidInputException($"{Path}: {name} is {entry.Size} bytes, more than the {limit}-byte limit for metadata");
        }

        var bytes = new byte[entry.Size];
        await using var stream = Open(name);
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _tar?.Dispose();
        if (_temporaryDirectory is not null && Directory.Exists(_temporaryDirectory))
        {
            Directory.Delete(_temporaryDirectory, recursive: true);
        }
    }

    private Entry Find(string name) =>
        EntryNames.Normalize(name) is { } normalized && _entries.TryGetValue(normalized, out var entry)
            ? entry
            : throw new InvalidInputException($"{Path}: \"{name}\" is not in the archive");

    /// <summary>
    /// Copies the input, decompressed, into Ferry's temporary file, refusing a decompression bomb: more than
    /// <see cref="ArchiveLimits.MaxExpansion"/> times the compressed bytes read so far (plus <see cref="BombAllowance"/>), or a
    /// temporary filesystem running out of room.
    /// </summary>
    private static async Task SpoolDecompressedAsync(Stream input, string displayName, DetectedCompression compression, string target, long maxExpansion, CancellationToken cancellationToken)
    {
        var counted = new CountingReadStream(input);
        await using Stream decompressed = CompressionDetector.Decompress(counted, compression, leaveOpen: true);
        await using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        var drive = new DriveInfo(System.IO.Path.GetDirectoryName(target)!);
        var buffer = new byte[1 << 20];
        long total = 0;
        try
        {
            int n;
            while ((n = await decompressed.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
                if (compression != DetectedCompression.None && total > (counted.BytesRead * maxExpansion) + BombAllowance)
                {
                    throw new InvalidInputException($"{displayName} decompresses to more than {maxExpansion} times its size; refused as a likely decompression bomb");
                }

                if ((total & ((64 << 20) - 1)) < n && drive.AvailableFreeSpace < 256L << 20)
                {
                    throw new InvalidInputException($"{displayName}: not enough room in {drive.RootDirectory} to unpack it (under 256 MiB free); set TMPDIR to a larger filesystem");
                }

                await output.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException && ex is not OperationCanceledException)
        {
            throw new InvalidInputException($"{displayName}: the {CompressionDetector.Name(compression)} stream is corrupt or truncated: {ex.Message}");
        }
    }

    private static async Task<Dictionary<string, Entry>> IndexTarAsync(PartedFile tar, string displayPath, CancellationToken cancellationToken)
    {
        var raw = new Dictionary<string, RawEntry>(StringComparer.Ordinal);
        foreach (var member in await TarIndexer.IndexAsync(tar, displayPath, MaxMembers, cancellationToken).ConfigureAwait(false))
        {
            if (member.Type is '5' or 'g')
            {
                continue;
            }

            var name = EntryNames.Normalize(member.Name) ?? throw new InvalidInputException($"{displayPath}: entry \"{member.Name}\" escapes the archive (absolute path or ..); refused");
            if (member.Type is '0' or '7')
            {
                raw[name] = new RawEntry(name, member.Offset, member.Size, null, false);
            }
            else if (member.Type is '1' or '2')
            {
                raw[name] = new RawEntry(name, 0, 0, member.LinkName ?? string.Empty, member.Type == '1');
            }

            // Devices, FIFOs and the like are never served.
        }

        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var item in raw.Values)
        {
            var target = item;
            for (var hops = 0; target.LinkName is not null; hops++)
            {
                if (hops >= MaxLinkHops)
                {
                    throw new InvalidInputException($"{displayPath}: \"{item.Name}\" is part of a link cycle; refused");
                }

                var resolved = EntryNames.ResolveLink(target.Name, target.LinkName, target.IsHardLink);
                if (resolved is null || !raw.TryGetValue(resolved, out var next))
                {
                    throw new InvalidInputException($"{displayPath}: link \"{item.Name}\" -> \"{item.LinkName}\" points outside the archive or at nothing; refused");
                }

                target = next;
            }

            entries[item.Name] = new Entry(item.Name, target.Offset, target.Size);
        }

        return entries;
    }

    private static Dictionary<string, Entry> IndexDirectory(string root)
    {
        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        foreach (var info in new DirectoryInfo(root).EnumerateFileSystemInfos("*", options))
        {
            var name = System.IO.Path.GetRelativePath(root, info.FullName).Replace('\\', '/');
            if (info.LinkTarget is not null)
            {
                throw new InvalidInputException($"{root}: {name} is a symbolic link; layout directories must hold regular files only");
            }

            if (info is DirectoryInfo)
            {
                continue;
            }

            if ((info.Attributes & FileAttributes.Device) != 0 || info is not FileInfo file)
            {
                throw new InvalidInputException($"{root}: {name} is not a regular file");
            }

            entries[name] = new Entry(name, 0, file.Length);
        }

        return entries;
    }

    private sealed record RawEntry(string Name, long Offset, long Size, string? LinkName, bool IsHardLink);

    private sealed record Entry(string Name, long Offset, long Size);
}
