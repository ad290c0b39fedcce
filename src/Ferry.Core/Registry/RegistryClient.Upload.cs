using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Ferry.Content;
using Ferry.Diagnostics;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Registry;

/// <summary>Blob uploads that survive slow and cut links.</summary>
public sealed partial class RegistryClient
{
    /// <summary>
    /// One blob's upload (distribution spec, "Pushing blobs"): <c>POST</c> opens a session; the bytes go in one
    /// <c>PUT</c> or in <c>PATCH</c> chunks; after a cut, <c>GET</c> on the session says how much the registry holds
    /// (<c>Range: 0-END</c>) and the rest follows from there, or, when the session is gone (404, or the registry
    /// invalidated it, as distribution 2.x does when a body was cut), a new session starts from zero. Attempts that
    /// bring no progress are bounded by the retry setting; the failure says how far the upload got.
    /// </summary>
    private sealed class BlobUpload(RegistryClient client, ImageReference repository, Descriptor descriptor, Func<CancellationToken, Task<Stream>> open) : IAsyncDisposable
    {
        private const long Progress = 1 << 20;
        private readonly string _what = $"{repository.Name}@{descriptor.Digest.Short}";
        private readonly SourceCursor _source = new(open);
        private Uri? _location;
        private long _chunk;
        private long _sent;
        private int _resumed;
        private int _sessions;

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var withoutProgress = 0;
            long held = 0;
            var knowsHeld = true;
            while (true)
            {
                Exception cause;
                try
                {
                    if (_location is null)
                    {
                        await StartAsync(cancellationToken).ConfigureAwait(false);
                        held = 0;
                        knowsHeld = true;
                    }

                    if (!knowsHeld)
                    {
                        var before = held;
                        held = await StatusAsync(cancellationToken).ConfigureAwait(false) ?? -1;
                        if (held < 0)
                        {
                            // The session is gone. If the blob arrived anyway (the answer to the last request was lost), done.
                            if (await client.BlobExistsAsync(repository, descriptor, cancellationToken).ConfigureAwait(false))
                            {
                                return;
                            }

                            _location = null;
                            continue;
                        }

                        knowsHeld = true;
                        _resumed++;
                        withoutProgress = held - before >= Progress ? 0 : withoutProgress;
                    }

                    await SendFromAsync(held, h => held = h, cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (Exception ex) when (SourceFailure(ex) is { } source)
                {
                    // The bytes being sent failed their own check (or could not be read): not a network matter.
                    System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(source);
                    throw;
                }
                catch (Exception ex) when (IsInterruption(ex, cancellationToken))
                {
                    cause = ex;
                    _source.Invalidate();
                    knowsHeld = false;
                }

                withoutProgress++;
                if (withoutProgress >= client._options.MaxAttempts)
                {
                    throw new RegistryException(
                        $"{_what}: upload of {DiskSpace.Size(descriptor.Size)} cut after {DiskSpace.Size(_sent)} sent; resumed {Times(_resumed)}, {Times(_sessions)} a new session; gave up: {Message(cause)}",
                        (cause as RegistryException)?.StatusCode,
                        cause);
                }

                var wait = client._options.RetryDelay * Math.Pow(2, withoutProgress - 1);
                wait = wait > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : wait;
                Log.UploadInterrupted(client._logger, _what, _sent, Message(cause), "asking the registry how much it holds", wait.TotalSeconds);
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => _source.DisposeAsync();

        private static string Times(int n) => n == 1 ? "once" : $"{n} times";

        private static string Message(Exception ex) => ex switch
        {
            RegistryException { InnerException: { } inner } registry when registry.StatusCode is null => inner.InnerException?.Message ?? inner.Message,
            _ => ex.Message,
        };

        /// <summary>A failure of the blob's source (its digest, its archive) found inside a transport error, if that is what happened.</summary>
        private static FerryException? SourceFailure(Exception ex)
        {
            for (var e = ex.InnerException; e is not null; e = e.InnerException)
            {
                if (e is FerryException ferry and not RegistryException)
                {
                    return ferry;
                }
            }

            return null;
        }

        /// <summary>A cut, a stall, a 5xx, a wrong offset or a dropped session: worth asking the session where it stands.</summary>
        private static bool IsInterruption(Exception ex, CancellationToken cancellationToken) =>
            !cancellationToken.IsCancellationRequested && ex switch
            {
                DigestMismatchException => false,
                FerryException { Response: { Status: 404, ErrorCode: "BLOB_UPLOAD_UNKNOWN" or "BLOB_UPLOAD_INVALID" } } => true,
                RegistryException { StatusCode: null, InnerException: HttpRequestException or IOException or TimeoutException } => true,
                RegistryException { StatusCode: 408 or 416 or 429 or >= 500 } => true,
                IOException or HttpRequestException or TimeoutException => true,
                _ => false,
            };

        private async Task StartAsync(CancellationToken cancellationToken)
        {
            using var start = await client.SendAsync(repository, new RegistryCall(HttpMethod.Post, "blobs/uploads/", _what) { Push = true }, cancellationToken).ConfigureAwait(false);
            _location = await UploadLocationAsync(start, repository, _what, cancellationToken).ConfigureAwait(false);
            _sessions++;
            var minimum = start.Headers.TryGetValues("OCI-Chunk-Min-Length", out var values) &&
                long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var min) ? min : 0;
            _chunk = client._options.UploadChunkSize is { } chunk ? Math.Max(chunk, minimum) : 0;
        }

        /// <summary>How many bytes the session holds; <see langword="null"/> when the registry no longer knows it.</summary>
        private async Task<long?> StatusAsync(CancellationToken cancellationToken)
        {
            var call = new RegistryCall(HttpMethod.Get, string.Empty, _what)
            {
                Push = true,
                AbsoluteUri = _location,
                AcceptStatus = status => status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.RequestedRangeNotSatisfiable,
            };
            using var response = await client.SendAsync(repository, call, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            if (response.Headers.Location is not null)
            {
                _location = await UploadLocationAsync(response, repository, _what, cancellationToken).ConfigureAwait(false);
            }

            return HeldBytes(response) ?? 0;
        }

        /// <summary>The bytes a <c>Range: 0-END</c> answer says the session holds (END + 1).</summary>
        private static long? HeldBytes(HttpResponseMessage response)
        {
            if (!response.Headers.TryGetValues("Range", out var values) || values.FirstOrDefault() is not { } range)
            {
                return null;
            }

            range = range.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase) ? range[6..] : range;
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            return dash > 0 && long.TryParse(range.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var end) ? end + 1 : null;
        }

        /// <summary>Sends the bytes from <paramref name="offset"/> on and completes the session.</summary>
        private async Task SendFromAsync(long offset, Action<long> held, CancellationToken cancellationToken)
        {
            var size = descriptor.Size;
            if (offset == 0 && _chunk == 0)
            {
                await PutAsync(0, size, cancellationToken).ConfigureAwait(false);
                return;
            }

            while (offset < size)
            {
                var length = _chunk == 0 ? size - offset : Math.Min(_chunk, size - offset);
                offset = await PatchAsync(offset, length, cancellationToken).ConfigureAwait(false);
                held(offset);
            }

            await PutAsync(size, 0, cancellationToken).ConfigureAwait(false);
        }

        private async Task<long> PatchAsync(long offset, long length, CancellationToken cancellationToken)
        {
            var call = new RegistryCall(HttpMethod.Patch, string.Empty, _what)
            {
                Push = true,
                Retry = false,
                AbsoluteUri = _location,
                Sent = n => Interlocked.Add(ref _sent, n),
                AcceptStatus = status => status == HttpStatusCode.Accepted,
                Content = () => Window(offset, length, range: true),
            };
            using var response = await client.SendAsync(repository, call, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Accepted && response.StatusCode != HttpStatusCode.NoContent)
            {
                throw new RegistryException($"{_what}: chunk upload answered {(int)response.StatusCode}, expected 202", (int)response.StatusCode);
            }

            _location = await UploadLocationAsync(response, repository, _what, cancellationToken).ConfigureAwait(false);
            var end = offset + length;
            if (HeldBytes(response) is { } holds && holds != end)
            {
                throw new RegistryException($"{_what}: after a chunk to byte {end} the registry holds {holds}", 416);
            }

            return end;
        }

        private async Task PutAsync(long offset, long length, CancellationToken cancellationToken)
        {
            var separator = string.IsNullOrEmpty(_location!.Query) ? "?" : "&";
            var call = new RegistryCall(HttpMethod.Put, string.Empty, _what)
            {
                Push = true,
                Retry = false,
                AbsoluteUri = new Uri(_location + separator + "digest=" + Uri.EscapeDataString(descriptor.Digest.ToString())),
                Sent = n => Interlocked.Add(ref _sent, n),
                Content = () => Window(offset, length, range: false),
            };
            using var response = await client.SendAsync(repository, call, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Created)
            {
                throw new RegistryException($"{_what}: upload answered {(int)response.StatusCode}, expected 201", (int)response.StatusCode);
            }
        }

        private HttpContent Window(long offset, long length, bool range)
        {
            var content = new WindowContent(_source, offset, length, offset + length == descriptor.Size);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            if (range && length > 0)
            {
                // The distribution spec's form (no unit): START-END, inclusive.
                content.Headers.TryAddWithoutValidation("Content-Range", string.Create(CultureInfo.InvariantCulture, $"{offset}-{offset + length - 1}"));
            }

            return content;
        }
    }

    /// <summary>
    /// The blob's bytes as one forward reader that can be placed at any offset: ahead by reading on (the reader verifies
    /// what it reads), behind by opening again. After a failed send its place is unknown, so it opens again.
    /// </summary>
    private sealed class SourceCursor(Func<CancellationToken, Task<Stream>> open) : IAsyncDisposable
    {
        private Stream? _stream;
        private long _position;

        public async Task<Stream> AtAsync(long offset, CancellationToken cancellationToken)
        {
            if (_stream is null || _position > offset)
            {
                await DisposeAsync().ConfigureAwait(false);
                _stream = await open(cancellationToken).ConfigureAwait(false);
                _position = 0;
            }

            var buffer = new byte[81920];
            while (_position < offset)
            {
                var n = await _stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, offset - _position)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"the blob's source ended at {_position} bytes, before offset {offset}");
                }

                _position += n;
            }

            return _stream;
        }

        public void Advance(long bytes) => _position += bytes;

        public void Invalidate()
        {
            _stream?.Dispose();
            _stream = null;
        }

        public async ValueTask DisposeAsync()
        {
            if (_stream is not null)
            {
                await _stream.DisposeAsync().ConfigureAwait(false);
                _stream = null;
            }
        }
    }

    /// <summary>A request body of <c>length</c> bytes of the blob from <c>offset</c>, read when it is sent (and again for a re-sent request).</summary>
    private sealed class WindowContent(SourceCursor source, long offset, long length, bool last) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var input = await source.AtAsync(offset, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[1 << 20];
            for (long done = 0; done < length;)
            {
                var n = await input.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - done)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new IOException($"the blob's source ended {length - done} bytes early");
                }

                source.Advance(n);
                await stream.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                done += n;
            }

            if (last && await input.ReadAsync(buffer.AsMemory(0, 1), cancellationToken).ConfigureAwait(false) != 0)
            {
                // The verifying source checks the digest when it reaches its end; more bytes than the descriptor says fail it.
                throw new DigestMismatchException("the blob's source holds more bytes than its descriptor says");
            }
        }

        protected override bool TryComputeLength(out long length1)
        {
            length1 = length;
            return true;
        }
    }
}
