using Ferry.Diagnostics;
using Ferry.Errors;
using Microsoft.Extensions.Logging;

namespace Ferry.Content;

/// <summary>
/// A forward-only blob body that survives a cut connection: when a read fails (or the body ends early) it
/// reopens the blob at the current offset through <c>reopen</c> and continues, so the reader above (which
/// verifies size and digest over the whole stream) never notices. Attempts are bounded: the count resets only
/// after 1 MiB of progress, so a link that keeps failing at the same place gives up with a clear error.
/// </summary>
internal sealed class ResumingReadStream : AsyncReadStream
{
    private const long ProgressThatResetsAttempts = 1024 * 1024;
    private readonly long _size;
    private readonly string _what;
    private readonly Func<long, CancellationToken, Task<Stream>> _reopen;
    private readonly int _maxAttempts;
    private readonly TimeSpan _delay;
    private readonly ILogger _logger;
    private Stream? _current;
    private long _offset;
    private long _offsetAtLastCut = -1;
    private int _attempts;

    /// <param name="first">The body of the first response.</param>
    /// <param name="size">The blob's size.</param>
    /// <param name="what">A name for messages.</param>
    /// <param name="reopen">Opens the blob at an offset (a verified 206, or a full body with the prefix skipped).</param>
    /// <param name="maxAttempts">Resumes allowed without 1 MiB of progress in between.</param>
    /// <param name="delay">The pause before a resume.</param>
    /// <param name="logger">Warned on each resume.</param>
    /// <param name="startOffset">The blob offset <paramref name="first"/> starts at (a download continued from an earlier run).</param>
    public ResumingReadStream(Stream first, long size, string what, Func<long, CancellationToken, Task<Stream>> reopen, int maxAttempts, TimeSpan delay, ILogger logger, long startOffset = 0)
        : base(first)
    {
        _current = first;
        _offset = startOffset;
        _size = size;
        _what = what;
        _reopen = reopen;
        _maxAttempts = maxAttempts;
        _delay = delay;
        _logger = logger;
    }

    /// <summary>How many times the download was resumed.</summary>
    public int Resumes { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Exception cut;
            try
            {
                _current ??= await _reopen(_offset, cancellationToken).ConfigureAwait(false);
                var n = await _current.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (n == 0 && _offset < _size && buffer.Length > 0)
                {
                    throw new IOException($"the body ended after {_offset} of {_size} bytes");
                }

                _offset += n;
                return n;
            }
            catch (Exception ex) when (ex is IOException or HttpRequestException && !cancellationToken.IsCancellationRequested)
            {
                cut = ex;
            }

            await PrepareResumeAsync(cut, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }

    private async Task PrepareResumeAsync(Exception cut, CancellationToken cancellationToken)
    {
        if (_offset - _offsetAtLastCut >= ProgressThatResetsAttempts)
        {
            _attempts = 0;
        }

        _offsetAtLastCut = _offset;
        _attempts++;
        _current?.Dispose();
        _current = null;
        if (_attempts > _maxAttempts)
        {
            throw new RegistryException($"{_what}: download cut at {_offset} of {_size} bytes and could not be resumed after {_maxAttempts} attempts: {cut.Message}", null, cut);
        }

        Log.ResumingDownload(_logger, _what, _offset, _size, cut.Message, _attempts, _maxAttempts);
        Resumes++;
        var jitter = 0.8 + (Random.Shared.NextDouble() * 0.4);
        await Task.Delay(_delay * jitter, cancellationToken).ConfigureAwait(false);
    }
}
