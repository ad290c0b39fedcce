using System.Net;
using System.Net.Sockets;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of the test registry that slows the registry→client direction down
/// (fault injection: makes a save last long enough to be interrupted).
/// </summary>
internal sealed class ThrottlingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public ThrottlingProxy(int targetPort, int bytesPerTick, TimeSpan tick)
    {
        _listener.Start();
        _accepting = Task.Run(async () =>
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

                _ = Task.Run(() => RelayAsync(client, targetPort, bytesPerTick, tick));
            }
        });
    }

    public string Host => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }

    private async Task RelayAsync(TcpClient client, int targetPort, int bytesPerTick, TimeSpan tick)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, targetPort, _stop.Token);
                var toServer = client.GetStream().CopyToAsync(upstream.GetStream(), _stop.Token);
                var toClient = SlowCopyAsync(upstream.GetStream(), client.GetStream(), bytesPerTick, tick);
                await Task.WhenAny(toServer, toClient);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // A side hung up.
            }
        }
    }

    private async Task SlowCopyAsync(Stream from, Stream to, int bytesPerTick, TimeSpan tick)
    {
        var buffer = new byte[bytesPerTick];
        int n;
        while ((n = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            await Task.Delay(tick, _stop.Token);
        }
    }
}
