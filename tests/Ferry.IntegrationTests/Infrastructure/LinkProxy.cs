using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP proxy standing for a link in the field: it forwards both ways, counts the bytes and when they flowed, and on
/// request cuts every open connection (a link that drops) — once, or every N seconds. Fault injection for what no
/// real server shows; the servers behind it are real.
/// </summary>
internal sealed class LinkProxy : LoopbackTcpServer
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<TcpClient, TcpClient> _open = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _toServer;
    private long _toClient;
    private long _firstToServerTicks = -1;
    private long _lastToServerTicks;
    private long _firstToClientTicks = -1;
    private long _lastToClientTicks;
    private Timer? _cutter;
    private int _cuts;

    public LinkProxy(IPAddress listen, IPEndPoint target)
        : base(listen)
    {
        _target = target;
    }

    public string Host => $"{Address}:{Port}";

    /// <summary>Bytes clients sent through the link.</summary>
    public long BytesToServer => Interlocked.Read(ref _toServer);

    /// <summary>Bytes servers sent back.</summary>
    public long BytesToClient => Interlocked.Read(ref _toClient);

    /// <summary>How many times the link was cut.</summary>
    public int Cuts => _cuts;

    /// <summary>The time between the first and the last byte sent to the server.</summary>
    public TimeSpan ToServerSpan => TimeSpan.FromTicks(Interlocked.Read(ref _lastToServerTicks) - Math.Max(0, Interlocked.Read(ref _firstToServerTicks)));

    /// <summary>The time between the first and the last byte sent to the client.</summary>
    public TimeSpan ToClientSpan => TimeSpan.FromTicks(Interlocked.Read(ref _lastToClientTicks) - Math.Max(0, Interlocked.Read(ref _firstToClientTicks)));

    /// <summary>A slow link toward the servers: at most this many bytes per second, all connections together (null: as fast as it goes).</summary>
    public long? BytesPerSecondToServer { get; init; }

    /// <summary>Cuts every open connection every <paramref name="period"/>, from now on.</summary>
    public void CutEvery(TimeSpan period) => _cutter = new Timer(_ => CutNow(), null, period, period);

    /// <summary>Cuts every open connection now (both sides see a reset).</summary>
    public void CutNow()
    {
        Interlocked.Increment(ref _cuts);
        foreach (var (client, server) in _open)
        {
            client.Client.LingerState = new LingerOption(true, 0);
            server.Client.LingerState = new LingerOption(true, 0);
            client.Close();
            server.Close();
        }
    }

    public new async ValueTask DisposeAsync()
    {
        if (_cutter is not null)
        {
            await _cutter.DisposeAsync();
        }

        await base.DisposeAsync();
    }

    protected override async Task ServeAsync(TcpClient client)
    {
        // Small send buffers: a byte counted here is a byte the other side took, not one queued in this process's kernel.
        client.SendBufferSize = 64 * 1024;
        using var upstream = new TcpClient { SendBufferSize = 64 * 1024 };
        await upstream.ConnectAsync(_target, Stopping.Token);
        _open[client] = upstream;
        try
        {
            var toServer = PumpAsync(client.GetStream(), upstream.GetStream(), toServerSide: true);
            var toClient = PumpAsync(upstream.GetStream(), client.GetStream(), toServerSide: false);
            await Task.WhenAny(toServer, toClient);
        }
        finally
        {
            _open.TryRemove(client, out _);
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool toServerSide)
    {
        var buffer = new byte[64 * 1024];
        int n;
        while ((n = await from.ReadAsync(buffer, Stopping.Token)) > 0)
        {
            if (toServerSide && BytesPerSecondToServer is { } rate)
            {
                // Paced like a link of that rate: a byte leaves no earlier than (bytes so far) / rate after the first.
                var due = TimeSpan.FromSeconds((Interlocked.Read(ref _toServer) + n) / (double)rate) - (_clock.Elapsed - TimeSpan.FromTicks(Math.Max(0, Interlocked.Read(ref _firstToServerTicks))));
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, Stopping.Token);
                }
            }

            await to.WriteAsync(buffer.AsMemory(0, n), Stopping.Token);
            var now = _clock.Elapsed.Ticks;
            if (toServerSide)
            {
                Interlocked.Add(ref _toServer, n);
                Interlocked.CompareExchange(ref _firstToServerTicks, now, -1);
                Interlocked.Exchange(ref _lastToServerTicks, now);
            }
            else
            {
                Interlocked.Add(ref _toClient, n);
                Interlocked.CompareExchange(ref _firstToClientTicks, now, -1);
                Interlocked.Exchange(ref _lastToClientTicks, now);
            }
        }
    }
}
