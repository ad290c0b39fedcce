using System.Net;
using System.Net.Sockets;

namespace Ferry.Registry.Transport;

/// <summary>
/// <c>HTTPS_PROXY</c>, <c>HTTP_PROXY</c> and <c>NO_PROXY</c> (upper or lower case) with the semantics of Go's
/// <c>httpproxy</c> package, which docker, skopeo and crane use, so one environment routes every tool alike:
/// <c>NO_PROXY</c> holds host names (matching the name and its subdomains), <c>.suffix</c> (subdomains only),
/// IP addresses, CIDR ranges, optional <c>:port</c>s, or <c>*</c>; loopback hosts are never proxied.
/// (.NET's own environment proxy differs: no <c>*</c>, and <c>example.com</c> does not match subdomains.)
/// </summary>
public sealed class EnvironmentProxy : IWebProxy
{
    private readonly Uri? _httpsProxy;
    private readonly Uri? _httpProxy;
    private readonly List<string> _noProxy;

    /// <summary>Creates the proxy from explicit values.</summary>
    /// <param name="httpsProxy">The proxy for https URLs.</param>
    /// <param name="httpProxy">The proxy for http URLs.</param>
    /// <param name="noProxy">The <c>NO_PROXY</c> list.</param>
    public EnvironmentProxy(string? httpsProxy, string? httpProxy, string? noProxy)
    {
        _httpsProxy = ParseProxy(httpsProxy);
        _httpProxy = ParseProxy(httpProxy);
        _noProxy = (noProxy ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(e => e.ToLowerInvariant()).ToList();
        if ((_httpsProxy ?? _httpProxy)?.UserInfo is { Length: > 0 } userInfo)
        {
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            Credentials = colon < 0
                ? new NetworkCredential(Uri.UnescapeDataString(userInfo), string.Empty)
                : new NetworkCredential(Uri.UnescapeDataString(userInfo[..colon]), Uri.UnescapeDataString(userInfo[(colon + 1)..]));
        }
    }

    /// <summary>Whether any proxy is configured.</summary>
    public bool IsConfigured => _httpsProxy is not null || _httpProxy is not null;

    /// <inheritdoc />
    public ICredentials? Credentials { get; set; }

    /// <summary>Reads the process environment.</summary>
    /// <returns>The proxy settings.</returns>
    public static EnvironmentProxy FromEnvironment()
    {
        static string? Read(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } upper ? upper : Environment.GetEnvironmentVariable(name.ToLowerInvariant());
        return new EnvironmentProxy(Read("HTTPS_PROXY"), Read("HTTP_PROXY"), Read("NO_PROXY"));
    }

    /// <inheritdoc />
    public Uri? GetProxy(Uri destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (IsBypassed(destination))
        {
            return null;
        }

        return destination.Scheme == Uri.UriSchemeHttps ? _httpsProxy : _httpProxy;
    }

    /// <inheritdoc />
    public bool IsBypassed(Uri host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var name = host.IdnHost.Trim('[', ']').ToLowerInvariant();
        if (name == "localhost" || name.EndsWith(".localhost", StringComparison.Ordinal) ||
            (IPAddress.TryParse(name, out var loopback) && IPAddress.IsLoopback(loopback)))
        {
            return true;
        }

        var address = IPAddress.TryParse(name, out var parsed) ? parsed : null;
        foreach (var entry in _noProxy)
        {
            if (entry == "*")
            {
                return true;
            }

            var (pattern, port) = SplitPort(entry);
            if (port is not null && port != host.Port)
            {
                continue;
            }

            if (address is not null)
            {
                if (IPNetwork.TryParse(pattern, out var network) ? network.Contains(address) : IPAddress.TryParse(pattern, out var single) && single.Equals(address))
                {
                    return true;
                }

                continue;
            }

            if (pattern.StartsWith('.') ? name.EndsWith(pattern, StringComparison.Ordinal) :
                name == pattern || name.EndsWith("." + pattern, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static (string Pattern, int? Port) SplitPort(string entry)
    {
        // "host:port", "[v6]:port", "1.2.3.4:port"; a bare IPv6 address or CIDR has several colons and no port.
        if (entry.StartsWith('['))
        {
            var close = entry.IndexOf(']', StringComparison.Ordinal);
            var inner = close > 0 ? entry[1..close] : entry;
            return close > 0 && close + 1 < entry.Length && entry[close + 1] == ':' && int.TryParse(entry[(close + 2)..], out var p6) ? (inner, p6) : (inner, null);
        }

        var colon = entry.LastIndexOf(':');
        if (colon > 0 && entry.IndexOf(':', StringComparison.Ordinal) == colon && int.TryParse(entry[(colon + 1)..], out var port))
        {
            return (entry[..colon], port);
        }

        return (entry, null);
    }

    private static Uri? ParseProxy(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        var text = value.Contains("://", StringComparison.Ordinal) ? value : "http://" + value;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) ? uri : throw new Errors.InvalidInputException($"proxy setting '{Redact(value)}' is not a URL");
    }

    /// <summary>A proxy URL without its password, for messages.</summary>
    /// <param name="value">The URL.</param>
    /// <returns>The URL with user info removed.</returns>
    internal static string Redact(string value)
    {
        var at = value.LastIndexOf('@');
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        return at < 0 ? value : (scheme >= 0 ? value[..(scheme + 3)] : string.Empty) + "***@" + value[(at + 1)..];
    }
}
