using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Ferry.Daemon;

namespace Ferry.Core.Tests;

/// <summary>
/// The export's receive thread, against a unix-socket server in the test: bytes arrive whole and in order whatever
/// the server's write sizes, the request is what was asked, a refused connection and a cut one are told apart, and
/// cancellation ends a read the server never answers.
/// </summary>
public sealed class ReceivePumpTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ferry-pump-").FullName;

    private string SocketPath => Path.Combine(_directory, "s.sock");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ManyMegabytesInOddWriteSizes_ArriveWholeAndInOrder_AfterTheRequest()
    {
        var payload = RandomNumberGenerator.GetBytes(9 * 1024 * 1024 + 77);
        using var listener = Listen();
        var server = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            var request = await ReadRequestAsync(peer);
            for (int offset = 0, size = 1; offset < payload.Length; offset += size, size = size * 7 % 70_001 + 1)
            {
                await peer.SendAsync(payload.AsMemory(offset, Math.Min(size, payload.Length - offset)));
            }

            peer.Shutdown(SocketShutdown.Send);
            return request;
        });

        using var pump = ReceivePump.Start(SocketPath, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n"), 1 << 20, CancellationToken.None);
        await using var received = new MemoryStream();
        await pump.Reader.AsStream().CopyToAsync(received);

        Assert.Equal("GET / HTTP/1.1\r\n\r\n", await server);
        Assert.Equal(SHA256.HashData(payload), SHA256.HashData(received.ToArray()));
    }

    [Fact]
    public async Task NothingListening_IsASocketError_NotABrokenStream()
    {
        using var pump = ReceivePump.Start(SocketPath, [1], 1 << 16, CancellationToken.None);
        await Assert.ThrowsAsync<SocketException>(async () => await pump.Reader.ReadAsync());
    }

    [Fact]
    public async Task ConnectionResetAfterSomeBytes_IsABrokenStream_NotAnUnreachableDaemon()
    {
        using var listener = Listen();
        var server = Task.Run(async () =>
        {
            using var peer = await listener.AcceptAsync();
            await Task.Delay(100); // the request arrives and is left unread: closing now resets the connection
            await peer.SendAsync(new byte[1000]);
            peer.Close();
        });

        using var pump = ReceivePump.Start(SocketPath, Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n\r\n"), 1 << 16, CancellationToken.None);
        await using var received = new MemoryStream();
        var error = await Assert.ThrowsAsync<IOException>(() => pump.Reader.AsStream().CopyToAsync(received));
        await server;
        Assert.Contains("connection to the Docker daemon broke", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_WhileTheServerSendsNothing_EndsTheRead()
    {
        using var listener = Listen();
        var accepted = listener.AcceptAsync();
        using var cancel = new CancellationTokenSource();
        using var pump = ReceivePump.Start(SocketPath, [1], 1 << 16, cancel.Token);
        using var peer = await accepted;
        var read = pump.Reader.ReadAsync(cancel.Token).AsTask();
        await Task.Delay(200);
        Assert.False(read.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read).WaitAsync(TimeSpan.FromSeconds(5));
    }

    private Socket Listen()
    {
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(SocketPath));
        listener.Listen();
        return listener;
    }

    private static async Task<string> ReadRequestAsync(Socket peer)
    {
        var text = new StringBuilder();
        var buffer = new byte[256];
        while (!text.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            var n = await peer.ReceiveAsync(buffer);
            if (n == 0)
            {
                break;
            }

            text.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }

        return text.ToString();
    }
}
