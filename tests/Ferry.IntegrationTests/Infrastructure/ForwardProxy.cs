using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A minimal HTTP forward proxy on loopback (CONNECT tunnels and absolute-form requests) that resolves a few
/// test host names to 127.0.0.1 ports — so HTTPS_PROXY/HTTP_PROXY/NO_PROXY routing can be tested with names
/// only the proxy knows. Records every host it was asked for.
/// </summary>
internal sealed class ForwardProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly IReadOnlyDictionary<string, int> _hosts;

    public ForwardProxy(IReadOnlyDictionary<string, int> hosts)
    {
        _hosts = hosts;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public ConcurrentQueue<string> Targets { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream);
            if (head is null)
            {
                return;
            }

            var requestLine = head[..head.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
            var isConnect = requestLine[0] == "CONNECT";
            var authority = isConnect ? requestLine[1] : new Uri(requestLine[1]).Authority;
            Targets.Enqueue(authority);
            var host = authority.Split(':')[0];
            if (!_hosts.TryGetValue(authority, out var port) && !_hosts.TryGetValue(host, out port))
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
                return;
            }

            using var upstream = new TcpClient();
            await upstream.ConnectAsync(IPAddress.Loopback, port);
            var upstreamStream = upstream.GetStream();
            if (isConnect)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 Connection established\r\n\r\n"));
            }
            else
            {
                await upstreamStream.WriteAsync(Encoding.ASCII.GetBytes(head)); // absolute-form is valid for origin servers too
            }

            using var done = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            var up = stream.CopyToAsync(upstreamStream, done.Token);
            var down = upstreamStream.CopyToAsync(stream, done.Token);
            await Task.WhenAny(up, down);
            await done.CancelAsync();
        }
    }

    private static async Task<string?> ReadHeadAsync(NetworkStream stream)
    {
        var buffer = new List<byte>();
        var one = new byte[1];
        while (buffer.Count < 64 * 1024)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return null;
            }

            buffer.Add(one[0]);
            if (buffer.Count >= 4 && buffer[^4] == '\r' && buffer[^3] == '\n' && buffer[^2] == '\r' && buffer[^1] == '\n')
            {
                return Encoding.ASCII.GetString(buffer.ToArray());
            }
        }

        return null;
    }
}
