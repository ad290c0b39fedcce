using System.Net;

namespace Ferry.Core.Tests;

/// <summary>
/// An in-process HTTP handler that answers from a script and records every request, for fault injection at
/// the HTTP boundary (the real registry is exercised by the integration tests).
/// </summary>
internal sealed class ScriptedHandler(Func<HttpRequestMessage, int, HttpResponseMessage> answer) : HttpMessageHandler
{
    private readonly Lock _gate = new();

    public List<RecordedRequest> Requests { get; } = [];

    public IEnumerable<RecordedRequest> To(string host) => Requests.Where(r => r.Uri.Host == host);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        int index;
        lock (_gate)
        {
            Requests.Add(new RecordedRequest(request.Method.Method, request.RequestUri!, request.Headers.TryGetValues("Authorization", out var a) ? a.First() : null, request.Headers.Range?.ToString(), body));
            index = Requests.Count - 1;
        }

        var response = answer(request, index);
        response.RequestMessage = request;
        return response;
    }

    public static HttpResponseMessage Status(HttpStatusCode status, string? body = null) =>
        new(status) { Content = new StringContent(body ?? string.Empty) };
}

internal sealed record RecordedRequest(string Method, Uri Uri, string? Authorization, string? Range, string? Body);

/// <summary>A response body that delivers <paramref name="cutAfter"/> bytes and then fails like a reset connection.</summary>
internal sealed class CuttingContent(byte[] data, int cutAfter) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) => await stream.WriteAsync(data);

    protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new CuttingStream(data, cutAfter));

    protected override bool TryComputeLength(out long length)
    {
        length = data.Length;
        return true;
    }

    private sealed class CuttingStream(byte[] data, int cutAfter) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_position >= cutAfter && _position < data.Length)
            {
                throw new IOException("connection reset by peer (injected)");
            }

            var n = Math.Min(buffer.Length, Math.Min(cutAfter, data.Length) - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer, offset, count));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
