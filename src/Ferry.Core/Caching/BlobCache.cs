using System.Globalization;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Caching;

/// <summary>A blob in a <see cref="BlobCache"/>.</summary>
/// <param name="Digest">Its digest.</param>
/// <param name="Size">Its size.</param>
/// <param name="LastUsed">When a run last read it (or stored it).</param>
public sealed record CachedBlob(Digest Digest, long Size, DateTimeOffset LastUsed);

/// <summary>What a prune removed and what is left.</summary>
/// <param name="Removed">The blobs removed, least recently used first.</param>
/// <param name="RemovedBytes">Their size.</param>
/// <param name="KeptBytes">The size of what is left.</param>
public sealed record CachePruneResult(IReadOnlyList<CachedBlob> Removed, long RemovedBytes, long KeptBytes)
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, (nameof(Removed), Removed), (nameof(RemovedBytes), RemovedBytes), (nameof(KeptBytes), KeptBytes));
}

/// <summary>
/// A content-addressed store of verified blobs that every run and command shares (<c>--cache DIR</c>,
/// <c>FERRY_CACHE</c>): a blob is stored as <c>DIR/blobs/ALG/HEX</c> only once its bytes matched its digest, by a
/// rename from <c>DIR/tmp/</c>, so no reader ever sees half a blob and concurrent runs (several processes on one
/// cache) are safe: the same blob stored twice is the same bytes. A hit is read through a verifying stream like a
/// download, so a damaged entry fails the read and is removed (the next run fetches it again). Entries are
/// read-only and their modification time is their last use, which <see cref="Prune"/> goes by.
/// </summary>
public sealed class BlobCache
{
    private static readonly TimeSpan TemporaryAge = TimeSpan.FromHours(6);

    /// <summary>Opens (creating when missing) the cache in <paramref name="directory"/>.</summary>
    /// <param name="directory">The cache directory.</param>
    /// <exception cref="OutputException">It cannot be created or is not a directory.</exception>
    public BlobCache(string directory)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        Directory = Path.GetFullPath(directory);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            RealDirectory(Path.Combine(Directory, "blobs"));
            RealDirectory(Path.Combine(Directory, "tmp"));
        }
        catch (UnsafePathException ex)
        {
            throw new OutputException($"cannot use the cache {directory}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"cannot use the cache {directory}: {ex.Message}", ex);
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _warned = new(StringComparer.Ordinal);

    /// <summary>The cache directory.</summary>
    public string Directory { get; }

    /// <summary>Told, once per entry, of something at a blob's name that Ferry did not put there (a link, a directory); it is left alone and the blob fetched instead.</summary>
    public Action<string>? Warn { get; set; }

    /// <summary>Where a blob is (or would be) stored.</summary>
    /// <param name="digest">The blob's digest.</param>
    /// <returns>Its path.</returns>
    public string PathOf(Digest digest) => Path.Combine(Directory, "blobs", digest.Algorithm, digest.Hex);

    /// <summary>Whether the cache holds a blob of this digest and size (not read: <see cref="OpenRead"/> verifies).</summary>
    /// <param name="descriptor">The blob.</param>
    /// <returns>Whether it is there.</returns>
    public bool Contains(Descriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var info = new FileInfo(PathOf(descriptor.Digest));
        return info.Exists && info.LinkTarget is null && info.Length == descriptor.Size;
    }

    /// <summary>
    /// Opens a cached blob through a verifying stream, marking it used; <see langword="null"/> on a miss. An entry
    /// whose bytes do not match is removed when the read finds out.
    /// </summary>
    /// <param name="descriptor">The blob.</param>
    /// <param name="what">A name for error messages.</param>
    /// <returns>The stream, or <see langword="null"/>.</returns>
    public VerifyingReadStream? OpenRead(Descriptor descriptor, string what)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var path = PathOf(descriptor.Digest);
        return OpenEntry(path) is { } handle ? Verified(handle, path, descriptor, what) : null;
    }

    /// <summary>Opens an entry that must be a regular file of this user's (a planted link or directory is left alone and reported).</summary>
    private SafeFileHandle? OpenEntry(string path)
    {
        try
        {
            return PosixFiles.OpenRegular(path, create: false, writable: false);
        }
        catch (UnsafePathException ex)
        {
            if (_warned.TryAdd(path, 0))
            {
                Warn?.Invoke($"cache: {ex.Message}; left alone, the blob is fetched instead");
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private VerifyingReadStream? Verified(SafeFileHandle handle, string path, Descriptor descriptor, string what)
    {
        var file = new FileStream(handle, FileAccess.Read, 1 << 16);

        if (file.Length != descriptor.Size)
        {
            file.Dispose();
            TryDelete(path);
            return null;
        }

        Touch(path);
        return new VerifyingReadStream(file, descriptor, what) { OnMismatch = () => TryDelete(path) };
    }

    /// <summary>
    /// Wraps a download so that its bytes are also stored: the blob enters the cache when the returned stream has
    /// been read to its end and verified; a download that fails or is abandoned leaves nothing.
    /// </summary>
    /// <param name="descriptor">The blob.</param>
    /// <param name="download">The unverified bytes from the registry.</param>
    /// <param name="what">A name for error messages.</param>
    /// <returns>A verifying stream over the download.</returns>
    public VerifyingReadStream Fill(Descriptor descriptor, Stream download, string what)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var temporary = Path.Combine(Directory, "tmp", $"{descriptor.Digest.Hex}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        FileStream file;
        try
        {
            file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new VerifyingReadStream(download, descriptor, what); // A cache that cannot take it is no reason to fail the run.
        }

        var tee = new TeeReadStream(download, file, temporary);
        return new VerifyingReadStream(tee, descriptor, what) { OnVerified = () => tee.Commit(PathOf(descriptor.Digest)) };
    }

    /// <summary>
    /// Hard-links a cached blob to <paramref name="destination"/> (a directory output on the same file system) after
    /// checking its bytes against the digest — a link copies nothing, so nothing else would check them. A damaged
    /// entry is removed and not linked.
    /// </summary>
    /// <param name="descriptor">The blob.</param>
    /// <param name="destination">The path to create.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>Whether the link was made.</returns>
    public async Task<bool> TryLinkAsync(Descriptor descriptor, string destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        var path = PathOf(descriptor.Digest);
        if (OpenEntry(path) is not { } handle)
        {
            return false;
        }

        using (handle)
        {
            if (Verified(handle, path, descriptor, path) is not { } cached)
            {
                return false;
            }

            await using (cached.ConfigureAwait(false))
            {
                try
                {
                    await cached.CopyToAsync(Stream.Null, 1 << 20, cancellationToken).ConfigureAwait(false);
                }
                catch (DigestMismatchException)
                {
                    return false; // Removed by the failed read.
                }

                // link(2) does not follow links: what lands in the layout must be the very file just verified.
                if (!PosixFiles.TryHardLink(path, destination))
                {
                    return false;
                }

                if (!PosixFiles.IsSameFile(handle, destination))
                {
                    TryDelete(destination);
                    return false;
                }

                return true;
            }
        }
    }

    /// <summary>Every blob in the cache, most recently used first.</summary>
    /// <returns>The blobs.</returns>
    public IReadOnlyList<CachedBlob> List()
    {
        var result = new List<CachedBlob>();
        foreach (var algorithmDirectory in new DirectoryInfo(Path.Combine(Directory, "blobs")).EnumerateDirectories())
        {
            foreach (var file in algorithmDirectory.EnumerateFiles())
            {
                if (Digest.TryParse($"{algorithmDirectory.Name}:{file.Name}", out var digest))
                {
                    result.Add(new CachedBlob(digest, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero)));
                }
            }
        }

        return [.. result.OrderByDescending(b => b.LastUsed).ThenBy(b => b.Digest.ToString(), StringComparer.Ordinal)];
    }

    /// <summary>
    /// Removes the least recently used blobs until the cache holds at most <paramref name="maxBytes"/>, and temporary
    /// files of runs that are gone. A run reading a removed blob keeps reading it (the file lives until closed).
    /// </summary>
    /// <param name="maxBytes">The most the cache may hold afterwards (0 empties it).</param>
    /// <returns>What was removed and what is left.</returns>
    public CachePruneResult Prune(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        foreach (var temporary in new DirectoryInfo(Path.Combine(Directory, "tmp")).EnumerateFiles())
        {
            var parts = temporary.Name.Split('.');
            var gone = parts.Length == 3 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !PosixFiles.IsRunning(pid);
            if (gone || DateTime.UtcNow - temporary.LastWriteTimeUtc > TemporaryAge)
            {
                TryDelete(temporary.FullName);
            }
        }

        var blobs = List();
        var kept = blobs.Sum(b => b.Size);
        var removed = new List<CachedBlob>();
        foreach (var blob in blobs.Reverse())
        {
            if (kept <= maxBytes)
            {
                break;
            }

            TryDelete(PathOf(blob.Digest));
            removed.Add(blob);
            kept -= blob.Size;
        }

        return new CachePruneResult(removed, removed.Sum(b => b.Size), kept);
    }

    /// <summary>Creates a directory of the cache, or checks that the one there is a real directory (never a link to elsewhere).</summary>
    private static void RealDirectory(string path)
    {
        if (PosixFiles.KindOf(path) is not (FileKind.Missing or FileKind.Directory) and var kind)
        {
            throw new UnsafePathException(path, kind);
        }

        System.IO.Directory.CreateDirectory(path);
    }

    private static void Touch(string path)
    {
        try
        {
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another user's cache entry: still readable, just not marked.
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone already, or not ours.
        }
    }

    /// <summary>Copies what is read into a temporary file; <see cref="Commit"/> renames it into the cache.</summary>
    private sealed class TeeReadStream(Stream inner, FileStream copy, string temporary) : AsyncReadStream(inner)
    {
        private bool _failed;
        private bool _committed;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n > 0 && !_failed)
            {
                try
                {
                    await copy.WriteAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
                }
                catch (IOException)
                {
                    _failed = true; // A full cache disk: the run goes on without caching this blob.
                }
            }

            return n;
        }

        public void Commit(string path)
        {
            if (_failed || _committed)
            {
                return;
            }

            try
            {
                copy.Flush();
                copy.Dispose();
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                }

                RealDirectory(Path.GetDirectoryName(path)!);
                if (PosixFiles.KindOf(path) is not (FileKind.Missing or FileKind.Regular))
                {
                    _failed = true; // Something planted at the entry's name stays as it is; the blob is not cached.
                    return;
                }

                File.Move(temporary, path, overwrite: true);
                _committed = true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _failed = true;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
                copy.Dispose();
                if (!_committed)
                {
                    TryDelete(temporary);
                }
            }

            base.Dispose(disposing);
        }
    }
}
