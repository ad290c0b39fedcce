using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>One request that went through a <see cref="CountingProxy"/>.</summary>
internal sealed record CountedRequest(string Method, string Path, string Query, long RequestBytes, int Status);

/// <summary>
/// A plain HTTP reverse proxy (Kestrel) in front of a real registry that forwards every request — bodies included —
/// and records method, path, query, request body size and status, so tests can count uploads (<c>PUT …?digest=</c>)
/// and cross-repository mounts (<c>POST …?mount=</c>) and the bytes sent. Upload <c>Location</c>s are rewritten to
/// come back through the proxy.
/// </summary>
internal sealed class CountingProxy : IAsyncDisposable
{
    private readonly string _target;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(5) };
    private LoopbackHttpServer? _server;

    private CountingProxy(string target) => _target = target;

    public string Host => _server!.Host;

    public ConcurrentQueue<CountedRequest> Requests { get; } = new();

    public static async Task<CountingProxy> StartAsync(string targetHost)
    {
        var proxy = new CountingProxy(targetHost);
        proxy._server = await LoopbackHttpServer.StartAsync(proxy.HandleAsync);
        return proxy;
    }

    /// <summary>Blob uploads that completed (<c>PUT</c> with <c>digest=</c>, answered 201) of a digest.</summary>
    public int Uploads(string digest) => Requests.Count(r => r.Method == "PUT" && r.Status == 201 && r.Query.Contains(Uri.EscapeDataString(digest), StringComparison.OrdinalIgnoreCase));

    /// <summary>Cross-repository mounts that succeeded (201) of a digest.</summary>
    public int Mounts(string digest) => Requests.Count(r => r.Method == "POST" && r.Status == 201 && r.Query.Contains("mount=" + Uri.EscapeDataString(digest), StringComparison.OrdinalIgnoreCase));

    /// <summary>Bytes sent in blob upload bodies.</summary>
    public long UploadedBytes => Requests.Where(r => r.Method is "PUT" or "PATCH" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal)).Sum(r => r.RequestBytes);

    public async ValueTask DisposeAsync()
    {
        await _server!.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{_target}{request.Path}{request.QueryString.Value}");
        var counted = new CountingStream(request.Body);
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(counted);
            if (request.ContentLength is { } length)
            {
                forward.Content.Headers.ContentLength = length;
            }

            if (request.ContentType is { } type)
            {
                forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
        }

        foreach (var name in new[] { "Authorization", "Accept", "Range" })
        {
            if (request.Headers.TryGetValue(name, out var values))
            {
                forward.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        Requests.Enqueue(new CountedRequest(request.Method, request.Path.Value!, request.QueryString.Value ?? string.Empty, counted.Count, (int)response.StatusCode));
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key is "Transfer-Encoding" or "Connection")
            {
                continue;
            }

            context.Response.Headers[header.Key] = header.Key == "Location"
                ? header.Value.Select(v => v.Replace($"//{_target}/", $"//{Host}/", StringComparison.Ordinal)).ToArray()
                : header.Value.ToArray();
        }

        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await body.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long Count { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = inner.Read(buffer, offset, count);
            Count += n;
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer, cancellationToken);
            Count += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
