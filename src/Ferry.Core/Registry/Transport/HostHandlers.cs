using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Ferry.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Ferry.Registry.Transport;

/// <summary>
/// One pooled HTTP handler per host, each with that host's TLS material (certs.d CAs and client certificate),
/// the proxy, and no automatic redirects or decompression. Remembers why a host's certificate was refused, so
/// errors can say so and an untrusted HTTPS registry is never mistaken for a plain-HTTP one.
/// </summary>
internal sealed class HostHandlers : IDisposable
{
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly HttpMessageHandler? _shared;
    private readonly IWebProxy _proxy;
    private readonly ConcurrentDictionary<string, Lazy<HttpMessageInvoker>> _invokers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, string> _certificateFailures = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _warnedUnverified = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _presentedCertificate = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, bool> _hasClientCertificate = new(StringComparer.OrdinalIgnoreCase);

    public HostHandlers(RegistryClientOptions options, ILogger logger, HttpMessageHandler? shared)
    {
        _options = options;
        _logger = logger;
        _shared = shared;
        _proxy = options.Proxy ?? EnvironmentProxy.FromEnvironment();
    }

    /// <summary>The invoker for a URI's scheme and authority.</summary>
    public HttpMessageInvoker For(Uri uri) =>
        _shared is not null
            ? _invokers.GetOrAdd("*", _ => new Lazy<HttpMessageInvoker>(() => new HttpMessageInvoker(_shared, disposeHandler: false))).Value
            : _invokers.GetOrAdd($"{uri.Scheme}://{uri.Authority}", _ => new Lazy<HttpMessageInvoker>(() => Create(uri))).Value;

    /// <summary>Why the certificate of <paramref name="uri"/>'s host was refused, if it was.</summary>
    public string? CertificateFailure(Uri uri) => _certificateFailures.TryGetValue(uri.Authority, out var reason) ? reason : null;

    /// <summary>Whether the host presented a certificate in a TLS handshake (so it speaks TLS, whatever failed afterwards).</summary>
    public bool PresentedCertificate(Uri uri) => _presentedCertificate.ContainsKey(uri.Authority);

    /// <summary>Whether a client certificate is configured for the host.</summary>
    public bool HasClientCertificate(Uri uri) => _hasClientCertificate.ContainsKey(uri.Authority);

    public void Dispose()
    {
        foreach (var invoker in _invokers.Values.Where(l => l.IsValueCreated))
        {
            invoker.Value.Dispose();
        }
    }

    private HttpMessageInvoker Create(Uri uri)
    {
        var options = _options.For(uri.Authority);
        var material = uri.Scheme == Uri.UriSchemeHttps ? LoadMaterial(uri, options.CertDirectory) : TlsMaterial.None;
        var verify = options.TlsVerify && !options.Insecure;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = _options.MaxConnectionsPerServer,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            ConnectTimeout = TimeSpan.FromSeconds(30),
            UseCookies = false,
            Proxy = _proxy,
            UseProxy = true,
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(uri, material, verify, certificate, chain, errors),
                ClientCertificates = material.ClientCertificates.Count > 0 ? material.ClientCertificates : null,
            },
        };
        if (_options.MaxBytesPerSecond is { } rate)
        {
            // With a rate cap the kernel's socket buffers must not soak up seconds of data ahead of the reader (Linux
            // grows them to megabytes): sized to about 1/8 s at the cap, the link itself carries the capped rate.
            var buffer = (int)Math.Clamp(rate / 8, 64 * 1024, 4 * 1024 * 1024);
            handler.ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = buffer, SendBufferSize = buffer };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
        }

        if (material.ClientCertificates.Count > 0)
        {
            _hasClientCertificate[uri.Authority] = true;
        }

        if (material.Directories.Count > 0)
        {
            Log.TlsMaterial(_logger, uri.Authority, material.Authorities.Count, material.ClientCertificates.Count, string.Join(", ", material.Directories));
        }

        return new HttpMessageInvoker(handler, disposeHandler: true);
    }

    private TlsMaterial LoadMaterial(Uri uri, string? certDirectory)
    {
        // certs.d directories are named like the reference's host[:port]; accept host and host:443 for the default port.
        var material = TlsMaterial.Load(uri.Authority, _options.CertificateRoots, certDirectory);
        if (material.Directories.Count == 0 && uri.IsDefaultPort)
        {
            material = TlsMaterial.Load($"{uri.Host}:{uri.Port}", _options.CertificateRoots, certDirectory);
        }

        return material;
    }

    private bool Validate(Uri uri, TlsMaterial material, bool verify, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is not null)
        {
            _presentedCertificate[uri.Authority] = true;
        }

        if (!verify)
        {
            if (_warnedUnverified.TryAdd(uri.Authority, true))
            {
                Log.TlsNotVerified(_logger, uri.Authority);
            }

            return true;
        }

        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate is not null && CustomRootTrust.Validates(certificate, chain, material.Authorities))
        {
            return true;
        }

        var reason = errors switch
        {
            _ when errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable) => "it sent no certificate",
            _ when errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) => $"its certificate is not valid for the name {uri.Host}",
            _ => "its certificate is not signed by a trusted CA" + (chain is { ChainStatus.Length: > 0 } ? $" ({chain.ChainStatus[0].StatusInformation.Trim()})" : string.Empty),
        };
        _certificateFailures[uri.Authority] = reason;
        return false;
    }
}
