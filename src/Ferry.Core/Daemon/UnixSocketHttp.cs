using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Ferry.Errors;

namespace Ferry.Daemon;

/// <summary>
/// A minimal HTTP/1.1 GET client for the daemon's unix socket: large buffered socket reads and an in-place
/// chunked decoder. Written for the export (<c>GET /images/get</c>), the one bulk transfer from the daemon:
/// HttpClient's chunked reader costs ~2× the CPU there (many small reads and continuations) and competes with
/// the daemon producing the tar.
/// Used for the small calls on a unix socket too (ping, image inspection), which keeps HttpClient's start-up cost
/// off the common local case; TCP, TLS and SSH go through HttpClient.
/// </summary>
internal static class UnixSocketHttp
{
    private const int BufferSize = 1 << 20;

    /// <summary>A small GET over the unix socket: status, headers and the whole body (capped at 4 MiB).</summary>
    public static async Task<(int Status, Dictionary<string, string> Headers, byte[] Body)> GetAsync(string socketPath, string pathAndQuery, CancellationToken cancellationToken)
    {
        (int, Dictionary<string, string>, byte[]) result = default;
        await SendAsync(socketPath, pathAndQuery, async (status, headers, body, token) =>
        {
            using var copy = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await body.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
            {
                if (copy.Length + n > 4 * 1024 * 1024)
                {
                    throw new DaemonException("the Docker daemon sent an answer over 4 MiB");
                }

                copy.Write(buffer, 0, n);
            }

            result = (status, headers, copy.ToArray());
        }, cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>
    /// The export: a GET whose body is handed to <paramref name="read"/> (status 200 only). The socket is read by a
    /// <see cref="ReceivePump"/> with blocking receives, and the reader's continuations run on the pump's thread.
    /// </summary>
    public static async Task RunAsync(string socketPath, string pathAndQuery, string host, Func<Stream, CancellationToken, Task> read, CancellationToken cancellationToken)
    {
        using var pump = ReceivePump.Start(socketPath, Request(pathAndQuery), BufferSize, cancellationToken);
        await using var source = pump.Reader.AsStream();
        await HandleAsync(source, async (status, _, body, token) =>
        {
            if (status != 200)
            {
                var text = await new StreamReader(body).ReadToEndAsync(token).ConfigureAwait(false);
                throw new DaemonException($"the Docker daemon ({host}) answered {status} to export: {DaemonErrors.MessageOf(text)}");
            }

            await read(body, token).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static byte[] Request(string pathAndQuery) =>
        Encoding.ASCII.GetBytes($"GET {pathAndQuery} HTTP/1.1\r\nHost: docker\r\nUser-Agent: ferry\r\nConnection: close\r\n\r\n");

    private static async Task SendAsync(string socketPath, string pathAndQuery, Func<int, Dictionary<string, string>, Stream, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
        await using var network = new NetworkStream(socket, ownsSocket: false);
        await network.WriteAsync(Request(pathAndQuery), cancellationToken).ConfigureAwait(false);
        await using var buffered = new BufferedStream(network, 64 * 1024);
        await HandleAsync(buffered, handle, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the response head from a buffered <paramref name="source"/> and hands the decoded body on.</summary>
    private static async Task HandleAsync(Stream source, Func<int, Dictionary<string, string>, Stream, CancellationToken, Task> handle, CancellationToken cancellationToken)
    {
        var (status, headers) = await ReadHeadAsync(source, cancellationToken).ConfigureAwait(false);
        Stream body = headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
            ? new ChunkedReadStream(source)
            : headers.TryGetValue("content-length", out var length) && long.TryParse(length, out var size)
                ? new Content.BoundedReadStream(source, size, "the connection closed before the end of the body", ownsInner: false)
                : source;
        await handle(status, headers, body, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(int Status, Dictionary<string, string> Headers)> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var statusLine = await ReadLineAsync(stream, cancellationToken).ConfigureAwait(false);
        var parts = statusLine.Split(' ', 3);
        if (parts.Length < 2 || !parts[0].StartsWith("HTTP/1.", StringComparison.Ordinal) || !int.TryParse(parts[1], out var status))
        {
            throw new DaemonException($"the Docker daemon answered something that is not HTTP: {statusLine}");
        }

        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < 200; i++)
        {
            var line = await ReadLineAsync(stream, cancellationToken).ConfigureAwait(false);
            if (line.Length == 0)
            {
                return (status, headers);
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        throw new DaemonException("the Docker daemon sent too many headers");
    }

    internal static async Task<string> ReadLineAsync(Stream stream, CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (line.Length < 8192)
        {
            if (await stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new IOException("the connection closed in the middle of an HTTP line");
            }

            if (one[0] == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)one[0]);
        }

        throw new IOException("an HTTP line is too long");
    }

    /// <summary>HTTP/1.1 chunked transfer decoding over a buffered stream.</summary>
    private sealed class ChunkedReadStream(Stream inner) : Content.ForwardOnlyStream(inner)
    {
        private long _remaining;
        private bool _done;

        public override int Read(Span<byte> buffer) => throw new NotSupportedException("asynchronous reads only");

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous reads only");

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_done || buffer.Length == 0)
            {
                return 0;
            }

            if (_remaining == 0)
            {
                var sizeLine = await ReadLineAsync(Inner, cancellationToken).ConfigureAwait(false);
                var semicolon = sizeLine.IndexOf(';', StringComparison.Ordinal);
                if (!long.TryParse(semicolon < 0 ? sizeLine : sizeLine[..semicolon], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out _remaining) || _remaining < 0)
                {
                    throw new IOException($"malformed chunk size \"{sizeLine}\"");
                }

                if (_remaining == 0)
                {
                    while ((await ReadLineAsync(Inner, cancellationToken).ConfigureAwait(false)).Length > 0)
                    {
                        // trailers
                    }

                    _done = true;
                    return 0;
                }
            }

            var n = await Inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException("the connection closed in the middle of a chunk");
            }

            _remaining -= n;
            if (_remaining == 0 && (await ReadLineAsync(Inner, cancellationToken).ConfigureAwait(false)).Length != 0)
            {
                throw new IOException("a chunk is not followed by CRLF");
            }

            return n;
        }
    }
}
