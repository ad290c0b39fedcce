using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>The faults <see cref="FaultProxy"/> injects, each for a number of matching requests.</summary>
internal sealed class FaultPlan
{
    /// <summary>Cut blob bodies (full GETs, not Range ones) after this many bytes.</summary>
    public long? CutBlobAfter { get; set; }

    public int CutTimes { get; set; } = 1;

    /// <summary>Answer 429 with this Retry-After value to manifest and blob GETs.</summary>
    public string? RetryAfter { get; set; }

    public int RateLimitTimes { get; set; } = 1;

    /// <summary>Answer 503 this many times before passing requests through.</summary>
    public int ServiceUnavailableTimes { get; set; }

    /// <summary>Redirect blob GETs to the proxy's second ("storage") port, with a signed-URL-like query.</summary>
    public bool RedirectBlobs { get; set; }

    /// <summary>The Authorization the storage port uses upstream (it stands in for pre-signed blob storage).</summary>
    public string? StorageAuthorization { get; set; }

    /// <summary>Ignore Range headers (answer 200 with the whole blob).</summary>
    public bool IgnoreRange { get; set; }
}

/// <summary>One request as the proxy saw it.</summary>
internal sealed record ProxiedRequest(string Listener, string Method, string Path, string? Range, bool HadAuthorization, int Status);

/// <summary>
/// A fault-injecting HTTP reverse proxy (Kestrel) in front of a real registry: cuts blob streams after N
/// bytes, answers 429 with Retry-After or 503, redirects blob GETs to a second loopback port (a stand-in for
/// blob storage on another host) and records what reached it, including whether Authorization was sent.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    public const string SignatureSecret = "X-Amz-Signature=SIGNATURE-SECRET-123";
    private readonly WebApplication _app;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = System.Net.DecompressionMethods.None });
    private readonly string _target;
    private int _cuts;
    private int _rateLimits;
    private int _unavailable;

    private FaultProxy(WebApplication app, string target, FaultPlan plan)
    {
        _app = app;
        _target = target;
        Plan = plan;
    }

    public FaultPlan Plan { get; }

    public int Port { get; private set; }

    public int StoragePort { get; private set; }

    public string Host => $"127.0.0.1:{Port}";

    public ConcurrentQueue<ProxiedRequest> Requests { get; } = new();

    public static async Task<FaultProxy> StartAsync(string targetHost, FaultPlan plan)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0", "http://127.0.0.1:0");
        var app = builder.Build();
        var proxy = new FaultProxy(app, targetHost, plan);
        app.Run(proxy.HandleAsync);
        await app.StartAsync();
        var ports = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Select(a => new Uri(a).Port).ToList();
        proxy.Port = ports[0];
        proxy.StoragePort = ports[1];
        return proxy;
    }

    public IEnumerable<ProxiedRequest> Blobs => Requests.Where(r => r.Path.Contains("/blobs/", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _upstream.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var listener = context.Connection.LocalPort == StoragePort ? "storage" : "registry";
        var isBlob = request.Path.Value!.Contains("/blobs/", StringComparison.Ordinal) && HttpMethods.IsGet(request.Method);
        var isManifest = request.Path.Value.Contains("/manifests/", StringComparison.Ordinal);
        var range = request.Headers.Range.ToString() is { Length: > 0 } r ? r : null;
        void Record(int status) => Requests.Enqueue(new ProxiedRequest(listener, request.Method, request.Path.Value!, range, request.Headers.ContainsKey("Authorization"), status));

        if (listener == "registry" && Plan.ServiceUnavailableTimes > 0 && Interlocked.Increment(ref _unavailable) <= Plan.ServiceUnavailableTimes)
        {
            Record(503);
            context.Response.StatusCode = 503;
            return;
        }

        if (listener == "registry" && Plan.RetryAfter is { } retryAfter && (isBlob || isManifest) && Interlocked.Increment(ref _rateLimits) <= Plan.RateLimitTimes)
        {
            Record(429);
            context.Response.StatusCode = 429;
            context.Response.Headers.RetryAfter = retryAfter;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
            return;
        }

        if (listener == "registry" && isBlob && Plan.RedirectBlobs)
        {
            Record(307);
            context.Response.StatusCode = 307;
            context.Response.Headers.Location = $"http://127.0.0.1:{StoragePort}{request.Path}?{SignatureSecret}";
            return;
        }

        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{_target}{request.Path}{(listener == "storage" ? string.Empty : request.QueryString.Value)}");
        foreach (var name in new[] { "Authorization", "Accept" })
        {
            if (request.Headers.TryGetValue(name, out var values) && listener == "registry")
            {
                forward.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        if (listener == "storage" && Plan.StorageAuthorization is { } storageAuthorization)
        {
            forward.Headers.TryAddWithoutValidation("Authorization", storageAuthorization);
        }

        if (range is not null && !Plan.IgnoreRange)
        {
            forward.Headers.TryAddWithoutValidation("Range", range);
        }

        using var response = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        Record((int)response.StatusCode);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers))
        {
            if (header.Key is not ("Transfer-Encoding" or "Connection"))
            {
                context.Response.Headers[header.Key] = header.Value.ToArray();
            }
        }

        await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        var cut = isBlob && range is null && Plan.CutBlobAfter is { } after && response.Content.Headers.ContentLength > after &&
                  Interlocked.Increment(ref _cuts) <= Plan.CutTimes ? after : (long?)null;
        var buffer = new byte[16 * 1024];
        long sent = 0;
        int n;
        while ((n = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            if (cut is { } limit && sent + n > limit)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, (int)(limit - sent)));
                await context.Response.Body.FlushAsync();
                context.Abort(); // a reset mid-body, Content-Length promised more
                return;
            }

            await context.Response.Body.WriteAsync(buffer.AsMemory(0, n));
            sent += n;
        }
    }
}
