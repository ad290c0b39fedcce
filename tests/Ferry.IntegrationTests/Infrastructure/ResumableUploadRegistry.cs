using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// Upload sessions as the distribution spec describes them and registry 2.8 does not keep after a cut body: every byte a
/// session received stays, even of a request that broke off, and <c>GET</c> on the session answers <c>Range: 0-END</c>
/// for it, so a client can continue where the link dropped. An in-test server for the one protocol behaviour the real
/// registry lacks; a finished blob is handed to the real registry behind it (digest checked there too), and everything
/// else (manifests, HEAD, mounts) is forwarded to it unchanged. Counts the body bytes it received.
/// </summary>
internal sealed partial class ResumableUploadRegistry : IAsyncDisposable
{
    private readonly string _target;
    private readonly TempDirectory _directory = new("ferry-uploads");
    private readonly ConcurrentDictionary<string, string> _sessions = new(StringComparer.Ordinal);
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(5) };
    private LoopbackHttpServer? _server;
    private long _received;

    private ResumableUploadRegistry(string target) => _target = target;

    public string Host => _server!.Host;

    public int Port => _server!.Port;

    /// <summary>Blob body bytes received (PATCH and PUT), whole or cut.</summary>
    public long ReceivedBytes => Interlocked.Read(ref _received);

    /// <summary>Upload sessions opened.</summary>
    public int Sessions => _sessions.Count;

    /// <summary>Status requests (GET on a session).</summary>
    public int StatusRequests { get; private set; }

    public static async Task<ResumableUploadRegistry> StartAsync(string targetHost)
    {
        var front = new ResumableUploadRegistry(targetHost);
        front._server = await LoopbackHttpServer.StartAsync(front.HandleAsync);
        return front;
    }

    public async ValueTask DisposeAsync()
    {
        await _server!.DisposeAsync();
        _upstream.Dispose();
        _directory.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? string.Empty;
        if (request.Method == "POST" && StartPath().Match(path) is { Success: true } start && !request.Query.ContainsKey("mount"))
        {
            var id = Guid.NewGuid().ToString("N");
            await File.WriteAllBytesAsync(_directory.File(id), []);
            _sessions[id] = start.Groups[1].Value;
            context.Response.StatusCode = 202;
            context.Response.Headers.Location = $"/v2/{start.Groups[1].Value}/blobs/uploads/{id}";
            context.Response.Headers["Docker-Upload-UUID"] = id;
            return;
        }

        if (SessionPath().Match(path) is { Success: true } session && _sessions.TryGetValue(session.Groups[2].Value, out var repository))
        {
            await SessionAsync(context, repository, session.Groups[2].Value);
            return;
        }

        await ForwardAsync(context);
    }

    private async Task SessionAsync(HttpContext context, string repository, string id)
    {
        var request = context.Request;
        var file = _directory.File(id);
        var size = new FileInfo(file).Length;
        var location = $"/v2/{repository}/blobs/uploads/{id}";
        switch (request.Method)
        {
            case "GET":
                StatusRequests++;
                context.Response.StatusCode = 204;
                context.Response.Headers.Location = location;
                if (size > 0)
                {
                    context.Response.Headers["Range"] = $"0-{size - 1}";
                }

                return;
            case "PATCH":
                if (request.Headers.ContentRange.ToString() is { Length: > 0 } range && !range.StartsWith($"{size}-", StringComparison.Ordinal))
                {
                    context.Response.StatusCode = 416;
                    context.Response.Headers["Range"] = size > 0 ? $"0-{size - 1}" : "0-0";
                    return;
                }

                (size, var whole) = await AppendAsync(file, request, context.RequestAborted);
                if (!whole)
                {
                    return; // Cut: what arrived stays; the client asks for the status.
                }

                context.Response.StatusCode = 202;
                context.Response.Headers.Location = location;
                context.Response.Headers["Range"] = $"0-{size - 1}";
                return;
            case "PUT":
                if (!(await AppendAsync(file, request, context.RequestAborted)).Whole)
                {
                    return;
                }

                var digest = request.Query["digest"].ToString();
                await using (var stream = File.OpenRead(file))
                {
                    if ("sha256:" + Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)) != digest)
                    {
                        _sessions.TryRemove(id, out _);
                        context.Response.StatusCode = 400;
                        await context.Response.WriteAsync("{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"digest did not match\"}]}");
                        return;
                    }
                }

                await PushUpstreamAsync(repository, digest, file);
                _sessions.TryRemove(id, out _);
                context.Response.StatusCode = 201;
                context.Response.Headers.Location = $"/v2/{repository}/blobs/{digest}";
                context.Response.Headers["Docker-Content-Digest"] = digest;
                return;
            default:
                context.Response.StatusCode = 405;
                return;
        }
    }

    /// <summary>Appends what the body brings, byte by byte as it arrives: a cut request keeps what it delivered.</summary>
    private async Task<(long Size, bool Whole)> AppendAsync(string file, HttpRequest request, CancellationToken cancellationToken)
    {
        await using var output = new FileStream(file, FileMode.Append, FileAccess.Write, FileShare.Read);
        var buffer = new byte[64 * 1024];
        long appended = 0;
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, n), CancellationToken.None);
                Interlocked.Add(ref _received, n);
                appended += n;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The link dropped: what arrived stays in the session.
            return (output.Length, false);
        }

        return (output.Length, request.ContentLength is not { } length || appended == length);
    }

    private async Task PushUpstreamAsync(string repository, string digest, string file)
    {
        using var start = await _upstream.PostAsync($"http://{_target}/v2/{repository}/blobs/uploads/", null);
        start.EnsureSuccessStatusCode();
        var location = start.Headers.Location!;
        var absolute = location.IsAbsoluteUri ? location : new Uri(new Uri($"http://{_target}"), location);
        await using var stream = File.OpenRead(file);
        using var content = new StreamContent(stream);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var put = await _upstream.PutAsync($"{absolute}{(absolute.Query.Length > 0 ? "&" : "?")}digest={Uri.EscapeDataString(digest)}", content);
        put.EnsureSuccessStatusCode();
    }

    private async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{_target}{request.Path}{request.QueryString.Value}");
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(request.Body);
            foreach (var header in request.Headers.Where(h => h.Key.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)))
            {
                forward.Content.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
            }
        }

        foreach (var header in request.Headers.Where(h => h.Key is "Accept" or "Authorization"))
        {
            forward.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
        }

        using var response = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key is "Transfer-Encoding")
            {
                continue;
            }

            context.Response.Headers[header.Key] = header.Value.ToArray();
        }

        if (response.Headers.Location is { IsAbsoluteUri: true } absolute)
        {
            context.Response.Headers.Location = absolute.PathAndQuery;
        }

        if (request.Method != "HEAD")
        {
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    [GeneratedRegex("^/v2/(.+)/blobs/uploads/?$")]
    private static partial Regex StartPath();

    [GeneratedRegex("^/v2/(.+)/blobs/uploads/([0-9a-f]{32})$")]
    private static partial Regex SessionPath();
}
