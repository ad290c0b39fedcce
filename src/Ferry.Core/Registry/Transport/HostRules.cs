using System.Net;
using System.Net.Sockets;

namespace Ferry.Registry.Transport;

/// <summary>Which hosts count as loopback or private, and where credentials and redirects may go.</summary>
internal static class HostRules
{
    /// <summary>Whether a host (a name, an IP, or host:port) is <c>localhost</c> or a loopback address.</summary>
    public static bool IsLoopback(string host)
    {
        var name = StripPort(host);
        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) ||
               (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address));
    }

    /// <summary>Whether a host is an IP literal in a range that must not be reached on a remote party's say-so.</summary>
    /// <returns>Link-local, unspecified and multicast always; loopback and private ranges too unless <paramref name="allowLocal"/>.</returns>
    public static bool IsForbiddenTarget(string host, bool allowLocal)
    {
        if (!IPAddress.TryParse(StripPort(host), out var address))
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        var always = address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.IsIPv6LinkLocal || address.IsIPv6Multicast ||
                     (address.AddressFamily == AddressFamily.InterNetwork && ((bytes[0] == 169 && bytes[1] == 254) || bytes[0] >= 224 || bytes[0] == 0));
        if (always)
        {
            return true;
        }

        var local = IPAddress.IsLoopback(address) || address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal ||
                    (address.AddressFamily == AddressFamily.InterNetwork && (bytes[0] == 10 || (bytes[0] == 172 && bytes[1] >= 16 && bytes[1] <= 31) || (bytes[0] == 192 && bytes[1] == 168)));
        return local && !allowLocal;
    }

    /// <summary>
    /// Whether a host named by a remote party (a redirect, a token realm, an upload location) must not be reached: an
    /// IP literal as <see cref="IsForbiddenTarget"/> says; <c>localhost</c> and <c>*.localhost</c> as loopback; any other
    /// name by every address it resolves to (one forbidden address is enough). A name that does not resolve is left
    /// to fail on its own.
    /// </summary>
    /// <param name="host">The host, with or without a port.</param>
    /// <param name="allowLocal">Whether loopback and private targets are acceptable (the registry is itself local).</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns><see langword="true"/> when the target is forbidden.</returns>
    public static async Task<bool> IsForbiddenTargetAsync(string host, bool allowLocal, CancellationToken cancellationToken)
    {
        var name = StripPort(host);
        if (IPAddress.TryParse(name, out _))
        {
            return IsForbiddenTarget(name, allowLocal);
        }

        if (IsLoopback(name))
        {
            return !allowLocal;
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(name, cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            return addresses.Any(a => IsForbiddenTarget(a.ToString(), allowLocal));
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>
    /// Whether a registry is itself local — loopback, a private address, or a name that resolves to one (a registry
    /// inside the network, whose blob storage and token service are local too). Looked up once per host and run.
    /// </summary>
    /// <param name="host">The registry host, with or without a port.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns><see langword="true"/> for a local registry.</returns>
    public static async Task<bool> IsLocalAsync(string host, CancellationToken cancellationToken)
    {
        var name = StripPort(host);
        if (IsLocal(host) || IPAddress.TryParse(name, out _))
        {
            return IsLocal(host);
        }

        if (LocalNames.TryGetValue(name, out var known))
        {
            return known;
        }

        bool local;
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(name, cancellationToken).WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            local = addresses.Length > 0 && addresses.All(a => IsLocal(a.ToString()));
        }
        catch (Exception ex) when (ex is SocketException or TimeoutException or ArgumentException)
        {
            local = false;
        }

        return LocalNames[name] = local;
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> LocalNames = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether a registry host is itself loopback or in a private range (so local redirect and realm targets are expected).</summary>
    public static bool IsLocal(string host) => IsLoopback(host) || (IPAddress.TryParse(StripPort(host), out _) && IsForbiddenTarget(host, allowLocal: false) && !IsForbiddenTarget(host, allowLocal: true));

    /// <summary>Whether two URIs share scheme, host and port (credentials may travel between them).</summary>
    public static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase) && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>The host without a port or IPv6 brackets.</summary>
    public static string StripPort(string host)
    {
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            return close > 0 ? host[1..close] : host;
        }

        var colon = host.LastIndexOf(':');
        return colon > 0 && host.IndexOf(':', StringComparison.Ordinal) == colon ? host[..colon] : host;
    }
}
