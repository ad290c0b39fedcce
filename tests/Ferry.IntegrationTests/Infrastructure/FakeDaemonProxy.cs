using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>How <see cref="FakeDaemonProxy"/> spoils the export stream of the real daemon.</summary>
public enum ExportFault
{
    /// <summary>Append a JSON error after the tar, as dockerd does when an export fails after it started.</summary>
    AppendError,

    /// <summary>Cut the connection in the middle of the stream.</summary>
    CutMidway,

    /// <summary>Send part of the stream, then nothing more until the client goes away.</summary>
    StallMidway,
}

/// <summary>
/// A TCP or unix-socket endpoint (Kestrel) in front of the real dockerd's unix socket that passes every API call
/// through and injects one fault into <c>GET /images/get</c>.
/// </summary>
internal sealed class FakeDaemonProxy : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _daemon;

    private FakeDaemonProxy(WebApplication app, HttpClient daemon)
    {
        _app = app;
        _daemon = daemon;
    }

    public string Host { get; private set; } = string.Empty;

    public static async Task<FakeDaemonProxy> StartAsync(string daemonSocket, ExportFault fault, string? unixSocket = null)
    {
        var daemon = new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(daemonSocket), token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (unixSocket is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        else
        {
            builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(unixSocket));
        }

        var app = builder.Build();
        var proxy = new FakeDaemonProxy(app, daemon);
        app.Run(async context =>
        {
            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.Method), "http://docker" + context.Request.Path + context.Request.QueryString);
            using var response = await daemon.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var header in response.Headers.Concat(response.Content.Headers))
            {
                if (header.Key is not ("Transfer-Encoding" or "Connection" or "Content-Length"))
                {
                    context.Response.Headers[header.Key] = header.Value.ToArray();
                }
            }

            await using var body = await response.Content.ReadAsStreamAsync(context.RequestAborted);
            var isExport = context.Request.Path.Value!.EndsWith("/images/get", StringComparison.Ordinal);
            var buffer = new byte[64 * 1024];
            long sent = 0;
            int n;
            while ((n = await body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                await context.Response.Body.WriteAsync(buffer.AsMemory(0, n));
                sent += n;
                if (isExport && fault == ExportFault.CutMidway && sent > 256 * 1024)
                {
                    await context.Response.Body.FlushAsync();
                    context.Abort();
                    return;
                }

                if (isExport && fault == ExportFault.StallMidway && sent > 256 * 1024)
                {
                    await context.Response.Body.FlushAsync();
                    await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                    return;
                }
            }

            if (isExport && fault == ExportFault.AppendError)
            {
                await context.Response.WriteAsync("{\"errorDetail\":{\"message\":\"injected export failure\"},\"error\":\"injected export failure\"}\r\n");
            }
        });
        await app.StartAsync();
        proxy.Host = unixSocket is not null
            ? "unix://" + unixSocket
            : "tcp://" + new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Authority;
        return proxy;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _daemon.Dispose();
    }
}
