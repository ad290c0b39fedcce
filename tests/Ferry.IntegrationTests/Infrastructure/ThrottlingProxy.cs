using System.Net;
using System.Net.Sockets;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of the test registry that slows the registry→client direction down
/// (fault injection: makes a save last long enough to be interrupted).
/// </summary>
internal sealed class ThrottlingProxy(int targetPort, int bytesPerTick, TimeSpan tick) : LoopbackTcpServer
{
    private long _bytesToClient;

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>The bytes sent to clients so far (registry → client: what a client downloaded).</summary>
    public long BytesToClient => Interlocked.Read(ref _bytesToClient);

    public void ResetCount() => Interlocked.Exchange(ref _bytesToClient, 0);

    protected override async Task ServeAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        await upstream.ConnectAsync(IPAddress.Loopback, targetPort, Stopping.Token);
        var toServer = client.GetStream().CopyToAsync(upstream.GetStream(), Stopping.Token);
        var toClient = SlowCopyAsync(upstream.GetStream(), client.GetStream());
        await Task.WhenAny(toServer, toClient);
    }

    private async Task SlowCopyAsync(Stream from, Stream to)
    {
        var buffer = new byte[bytesPerTick];
        int n;
        while ((n = await from.ReadAsync(buffer, Stopping.Token)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n), Stopping.Token);
            Interlocked.Add(ref _bytesToClient, n);
            await Task.Delay(tick, Stopping.Token);
        }
    }
}
