using System.IO.Pipelines;
using System.Net.Sockets;

namespace Ferry.Daemon;

/// <summary>
/// Receives one unix-socket connection on a thread of its own with plain blocking calls, into a pipe whose reader
/// continues on that same thread. For the export, the one bulk transfer from a local daemon: there the usual path
/// (non-blocking socket, epoll thread, a thread-pool hop for every read that finds no data yet) cost more CPU than
/// Ferry's own SHA-256 and competed with the daemon for the same two cores.
/// Connects and sends <c>request</c> first; a failure to connect reaches the reader as its exception.
/// </summary>
internal sealed class ReceivePump : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly Pipe _pipe;
    private readonly string _path;
    private readonly byte[] _request;
    private readonly int _chunk;
    private readonly CancellationTokenRegistration _cancellation;

    private ReceivePump(string path, byte[] request, int bufferSize, CancellationToken cancellationToken)
    {
        _path = path;
        _request = request;
        _chunk = Math.Min(bufferSize, 256 * 1024);

        // Inline reader: the consumer's awaits on an empty pipe resume on the pump thread, not the thread pool.
        _pipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: bufferSize,
            resumeWriterThreshold: bufferSize / 2,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        _socket.ReceiveBufferSize = bufferSize;

        // A blocking receive does not watch a token: shutting the socket down ends it.
        _cancellation = cancellationToken.Register(static state => ((ReceivePump)state!).Abort(), this);
    }

    /// <summary>What the daemon sent, as it arrives.</summary>
    public PipeReader Reader => _pipe.Reader;

    /// <summary>Connects, sends the request and starts receiving on a new background thread.</summary>
    public static ReceivePump Start(string path, byte[] request, int bufferSize, CancellationToken cancellationToken)
    {
        var pump = new ReceivePump(path, request, bufferSize, cancellationToken);
        new Thread(static state => ((ReceivePump)state!).Run()) { IsBackground = true, Name = "ferry daemon receive" }.Start(pump);
        return pump;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _cancellation.Dispose();
        Abort();
        _socket.Dispose();
    }

    private void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Not connected yet, or already gone: nothing to interrupt.
        }
    }

    private void Run()
    {
        var writer = _pipe.Writer;
        var connected = false;
        try
        {
            _socket.Connect(new UnixDomainSocketEndPoint(_path));
            connected = true;
            _socket.Send(_request);
            while (true)
            {
                var memory = writer.GetMemory(_chunk);
                var received = _socket.Receive(memory.Span);
                if (received == 0)
                {
                    break;
                }

                writer.Advance(received);

                // Blocks only while the reader is a whole buffer behind; then the reader is what we wait for.
                var flushed = writer.FlushAsync().AsTask().GetAwaiter().GetResult();
                if (flushed.IsCompleted)
                {
                    break;
                }
            }

            writer.Complete();
        }
        catch (Exception ex)
        {
            // Everything goes to the reader (a throw here would end the process): a failed connect as it is, so it
            // reads "cannot reach the daemon"; anything later as a broken stream.
            writer.Complete(connected || ex is not SocketException ? new IOException($"the connection to the Docker daemon broke: {ex.Message}", ex) : ex);
        }
    }
}
