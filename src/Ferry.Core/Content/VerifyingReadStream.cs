using System.Security.Cryptography;
using Ferry.Errors;
using Ferry.Oci;

namespace Ferry.Content;

/// <summary>
/// A read-only stream over content that must match a descriptor: it hashes and counts while reading,
/// fails as soon as more bytes arrive than the descriptor's size, and at the end of the stream fails when
/// the size or the digest differ. Callers read to the end (a read returning 0) before using the data.
/// </summary>
public sealed class VerifyingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly Descriptor _expected;
    private readonly string _what;
    private readonly IncrementalHash _hash;
    private readonly bool _leaveOpen;
    private long _read;
    private bool _verified;

    /// <summary>Wraps <paramref name="inner"/>.</summary>
    /// <param name="inner">The unverified content.</param>
    /// <param name="expected">The descriptor the content must match.</param>
    /// <param name="what">A name for error messages (e.g. the image reference).</param>
    /// <param name="leaveOpen">Whether disposing this stream leaves <paramref name="inner"/> open.</param>
    public VerifyingReadStream(Stream inner, Descriptor expected, string what, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(expected);
        _inner = inner;
        _expected = expected;
        _what = what;
        _leaveOpen = leaveOpen;
        _hash = expected.Digest.CreateHash();
    }

    /// <summary>Called once the content was read to its end and matched the descriptor (a cache commits what it kept).</summary>
    internal Action? OnVerified { get; init; }

    /// <summary>Called when the content turns out not to match (a cache removes the damaged entry).</summary>
    internal Action? OnMismatch { get; init; }

    /// <summary>The number of bytes read so far.</summary>
    public long BytesRead => _read;

    /// <inheritdoc />
    public override bool CanRead => true;

    /// <inheritdoc />
    public override bool CanSeek => false;

    /// <inheritdoc />
    public override bool CanWrite => false;

    /// <inheritdoc />
    public override long Length => _expected.Size;

    /// <inheritdoc />
    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    /// <inheritdoc />
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    /// <inheritdoc />
    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    /// <inheritdoc />
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <inheritdoc />
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Account(buffer.Span[..n]);
        return n;
    }

    /// <inheritdoc />
    public override void Flush()
    {
    }

    /// <inheritdoc />
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <inheritdoc />
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    private void Account(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            if (!_verified)
            {
                Verify();
            }

            return;
        }

        _read += data.Length;
        if (_read > _expected.Size)
        {
            OnMismatch?.Invoke();
            throw new DigestMismatchException($"{_what}: blob {_expected.Digest.Short} is larger than its descriptor size {_expected.Size}");
        }

        _hash.AppendData(data);
    }

    private void Verify()
    {
        _verified = true;
        if (_read != _expected.Size)
        {
            OnMismatch?.Invoke();
            throw new DigestMismatchException($"{_what}: blob {_expected.Digest.Short} ended after {_read} of {_expected.Size} bytes (truncated)");
        }

        Span<byte> actual = stackalloc byte[64];
        var length = _hash.GetHashAndReset(actual);
        if (!actual[..length].SequenceEqual(Convert.FromHexString(_expected.Digest.Hex)))
        {
            OnMismatch?.Invoke();
            var got = References.Digest.FromHash(_expected.Digest.Algorithm, actual[..length]);
            throw new DigestMismatchException($"{_what}: digest mismatch for blob: expected {_expected.Digest}, got {got}");
        }

        OnVerified?.Invoke();
    }
}
