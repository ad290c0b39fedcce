using System.Security.Cryptography;
using Ferry.Archives.Compression;
using Ferry.Archives.Format;
using Ferry.Content;
using Ferry.Oci;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.Archives;

/// <summary>
/// Appends blobs of unknown digest to a tar file as they arrive: each is written under a placeholder header,
/// hashed on the way (and gzip-compressed on all cores when asked), and the header is then patched with its digest
/// name, so the bytes cross the disk once. A blob that turns out to be there already is cut off again. The rest of
/// the layout (manifests, configs, index files) is appended by <see cref="FinishAsync"/>.
/// </summary>
internal sealed class TarAppendWriter : IBlobAppender, IAsyncDisposable
{
    private const string Placeholder = "blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000";
    private readonly FileStream _file;
    private readonly HashSet<Digest> _written = [];
    private readonly byte[][] _buffers = [new byte[1 << 20], new byte[1 << 20]];
    private readonly SemaphoreSlim _gate = new(1);

    public TarAppendWriter(string path)
    {
        _file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Options = FileOptions.Asynchronous, BufferSize = 0 });
    }

    /// <inheritdoc />
    public async Task<Reading.HashedBlob> AppendAsync(Stream data, long length, bool compress, Digest? expected, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await AppendLockedAsync(data, length, compress, expected, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Appends the layout's blobs not written yet and its index files, then the end-of-archive blocks.</summary>
    public async Task FinishAsync(ImageLayout layout, CancellationToken cancellationToken)
    {
        foreach (var blob in layout.Blobs.Where(b => b.Content is not null && _written.Add(b.Descriptor.Digest)))
        {
            await TarHeader.WriteEntryAsync(_file, blob.Path, blob.Content!.Value, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (name, content) in layout.MetadataFiles)
        {
            await TarHeader.WriteEntryAsync(_file, name, content, cancellationToken).ConfigureAwait(false);
        }

        await _file.WriteAsync(TarHeader.Zeros, cancellationToken).ConfigureAwait(false);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _file.DisposeAsync().ConfigureAwait(false);
        _gate.Dispose();
    }

    private async Task<Reading.HashedBlob> AppendLockedAsync(Stream data, long length, bool compress, Digest? expected, CancellationToken cancellationToken)
    {
        var headerAt = _file.Position;
        await _file.WriteAsync(TarHeader.Build(Placeholder, compress ? 0 : length, isDirectory: false), cancellationToken).ConfigureAwait(false);

        // Uncompressed, the stored blob is the diff itself: one hash gives both digests.
        using var diffHash = compress ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        using var sink = new HashingFileWriter(_file);
        await using var compressor = compress ? new ParallelBlockCompressor(sink, OuterCompression.Gzip) : null;

        // Two buffers: the next one is read while the last one is hashed and written, so the source, SHA-256 and the
        // disk overlap instead of taking turns.
        var current = 0;
        var pending = Task.CompletedTask;
        long total = 0;
        try
        {
            while (true)
            {
                var buffer = _buffers[current];
                var n = await data.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                await pending.ConfigureAwait(false);
                if (n == 0)
                {
                    break;
                }

                total += n;
                var chunk = buffer.AsMemory(0, n);
                pending = Task.Run(
                    async () =>
                    {
                        diffHash?.AppendData(chunk.Span);
                        if (compressor is not null)
                        {
                            await compressor.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                        }
                        else
                        {
                            await sink.WriteAsync(chunk, cancellationToken).ConfigureAwait(false);
                        }
                    },
                    cancellationToken);
                current ^= 1;
            }
        }
        finally
        {
            // Never leave a write running on a buffer (or a file) that is about to go away.
            await pending.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (total != length)
        {
            throw new EndOfStreamException($"{total} of {length} bytes");
        }

        if (compressor is not null)
        {
            await compressor.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }

        var digest = sink.Digest();
        var diffId = diffHash is null ? digest : Digest.Parse("sha256:" + Convert.ToHexStringLower(diffHash.GetHashAndReset()));
        if (expected is { } name && name != digest)
        {
            throw new Errors.DigestMismatchException($"blob {name} hashes to {digest}");
        }

        var size = sink.BytesWritten;
        if (!_written.Add(digest))
        {
            _file.SetLength(headerAt); // the same blob twice: keep one copy
            _file.Position = headerAt;
        }
        else
        {
            await _file.WriteAsync(TarHeader.PaddingFor(size), cancellationToken).ConfigureAwait(false);
            await RandomAccess.WriteAsync(_file.SafeFileHandle, TarHeader.Build(digest.LayoutPath, size, isDirectory: false), headerAt, cancellationToken).ConfigureAwait(false);
        }

        return new Reading.HashedBlob(new Descriptor(string.Empty, digest, size), diffId, compress ? DetectedCompression.Gzip : DetectedCompression.None);
    }

    /// <summary>Writes through to the archive file, hashing and counting what passes, and starts writeback as it grows.</summary>
    private sealed class HashingFileWriter(FileStream file) : WriteOnlyStream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly EarlyWriteback _writeback = new(file.SafeFileHandle);

        public long BytesWritten { get; private set; }

        public Digest Digest() => References.Digest.Parse("sha256:" + Convert.ToHexStringLower(_hash.GetHashAndReset()));

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            BytesWritten += buffer.Length;
            await file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            _writeback.Written(file.Position);
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
