using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;

namespace Ferry.Server;

/// <summary>
/// Admits connections up to a total and a per-client-address cap. A connection over either cap is not dropped
/// silently (as Kestrel's own limit does) but answered <c>503 Service Unavailable</c> with <c>Retry-After</c>, which
/// docker, podman and containerd retry; so a handful of slow or idle clients cannot lock everybody else out.
/// </summary>
internal sealed class ConnectionGate(long? maxTotal, int perClient, Action<string>? log)
{
    private const string RefusalBody = "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"too many connections; retry later\"}]}";

    private static readonly byte[] Refusal = Encoding.ASCII.GetBytes(
        $"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\nContent-Type: application/json\r\nContent-Length: {RefusalBody.Length}\r\nConnection: close\r\n\r\n{RefusalBody}");

    private readonly ConcurrentDictionary<IPAddress, int> _perClient = new();
    private long _total;

    public int PerClient => perClient;

    /// <summary>The connection middleware.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => async connection =>
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address.MapToIPv6() ?? IPAddress.IPv6None;
        if (!TryEnter(address, out var why))
        {
            log?.Invoke($"refused a connection from {Display(address)}: {why}; answered 503 with Retry-After");
            await RefuseAsync(connection).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(connection).ConfigureAwait(false);
        }
        finally
        {
            Leave(address);
        }
    };

    private static string Display(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString();

    private bool TryEnter(IPAddress address, out string why)
    {
        if (Interlocked.Increment(ref _total) > (maxTotal ?? long.MaxValue))
        {
            Interlocked.Decrement(ref _total);
            why = $"all {maxTotal} connections are in use";
            return false;
        }

        var mine = _perClient.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (mine > perClient)
        {
            Leave(address);
            why = $"that address holds {perClient} connections already";
            return false;
        }

        why = string.Empty;
        return true;
    }

    private void Leave(IPAddress address)
    {
        Interlocked.Decrement(ref _total);
        _perClient.AddOrUpdate(address, 0, (_, n) => n - 1);
        _perClient.TryRemove(new KeyValuePair<IPAddress, int>(address, 0));
    }

    /// <summary>Reads what the client sent (briefly), answers 503 and closes: a request never goes unanswered.</summary>
    private static async Task RefuseAsync(ConnectionContext connection)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        try
        {
            if (connection.Features.Get<ITlsApplicationProtocolFeature>()?.ApplicationProtocol.Span.SequenceEqual("h2"u8) == true)
            {
                return; // An HTTP/2 client would not read an HTTP/1.1 answer; it sees the connection close and retries.
            }

            // Wait for the request head (up to 2 s), so closing does not reset the connection under the answer.
            while (true)
            {
                var read = await connection.Transport.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
                var seen = Encoding.ASCII.GetString(read.Buffer.Length > 16384 ? read.Buffer.Slice(0, 16384) : read.Buffer);
                var done = seen.Contains("\r\n\r\n", StringComparison.Ordinal) || read.IsCompleted || read.Buffer.Length > 16384;
                connection.Transport.Input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                if (done)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ConnectionResetException)
        {
            // A silent or vanished client: answer anyway.
        }

        try
        {
            await connection.Transport.Output.WriteAsync(Refusal).ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or InvalidOperationException)
        {
            // Gone already.
        }
    }
}
