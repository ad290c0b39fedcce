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
internal sealed class ForwardProxy(IReadOnlyDictionary<string, int> hosts) : LoopbackTcpServer
{
    public string Url => $"http://127.0.0.1:{Port}";

    public ConcurrentQueue<string> Targets { get; } = new();

    protected override async Task ServeAsync(TcpClient client)
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
        if (!hosts.TryGetValue(authority, out var port) && !hosts.TryGetValue(host, out port))
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

        using var done = CancellationTokenSource.CreateLinkedTokenSource(Stopping.Token);
        var up = stream.CopyToAsync(upstreamStream, done.Token);
        var down = upstreamStream.CopyToAsync(stream, done.Token);
        await Task.WhenAny(up, down);
        await done.CancelAsync();
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
