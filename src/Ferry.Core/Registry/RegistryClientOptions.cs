using System.Net;

namespace Ferry.Registry;

/// <summary>Settings of a <see cref="RegistryClient"/>: transport security, retries and limits.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Talk plain HTTP to every registry (<c>--plain-http</c>). Loopback registries fall back to HTTP by themselves.</summary>
    public bool PlainHttp { get; init; }

    /// <summary>Treat every registry as insecure (<c>--insecure</c>): certificates are not verified and HTTP is tried when HTTPS fails.</summary>
    public bool Insecure { get; init; }

    /// <summary>Verify TLS certificates (default). <see langword="false"/> is <c>--tls-verify=false</c>: HTTPS without verification.</summary>
    public bool TlsVerify { get; init; } = true;

    /// <summary>certs.d-style roots searched for <c>&lt;host[:port]&gt;/</c> directories (<c>*.crt</c> CAs, <c>*.cert</c>+<c>*.key</c> client pairs).</summary>
    public IReadOnlyList<string> CertificateRoots { get; init; } = DefaultCertificateRoots();

    /// <summary>A <c>--cert-dir</c>: its files apply to every registry, its <c>&lt;host[:port]&gt;</c> subdirectories to that registry.</summary>
    public string? CertDirectory { get; init; }

    /// <summary>
    /// Settings of single registries (a bundle file's <c>tls-verify</c> and <c>cert-dir</c>), keyed by <c>host[:port]</c>:
    /// each overrides the run-wide setting for its registry only.
    /// </summary>
    public IReadOnlyDictionary<string, RegistryHostOptions> Hosts { get; init; } = new Dictionary<string, RegistryHostOptions>();

    /// <summary>These options as they apply to one registry: its <see cref="Hosts"/> entry laid over the run-wide settings.</summary>
    /// <param name="registry">The registry's <c>host[:port]</c> (Docker Hub under any of its names).</param>
    /// <returns>The options for it.</returns>
    public RegistryClientOptions For(string registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (Hosts.Count == 0)
        {
            return this;
        }

        var key = Auth.AuthKeys.NormalizeHost(registry);
        var match = Hosts.FirstOrDefault(h => Auth.AuthKeys.NormalizeHost(h.Key) == key).Value;
        return match is null ? this : this with
        {
            // skopeo's tls-verify: false is "need not be HTTPS, need not verify": Ferry's insecure, for this registry.
            Insecure = match.TlsVerify is false || (match.TlsVerify is null && Insecure),
            TlsVerify = match.TlsVerify ?? TlsVerify,
            CertDirectory = match.CertDirectory ?? CertDirectory,
        };
    }

    /// <summary>
    /// Retries per request after the first attempt (default 4, as the CLI's <c>--retries</c>; 0 disables them).
    /// Connection errors, 408, 429 and 5xx are retried.
    /// </summary>
    public int Retries { get; init; } = 4;

    /// <summary>Attempts per request, the first included: <see cref="Retries"/> + 1.</summary>
    internal int MaxAttempts => Math.Max(0, Retries) + 1;

    /// <summary>The first retry delay; it doubles per attempt, with jitter (default 1 s).</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest <c>Retry-After</c> honoured (default 60 s); a registry asking for more fails the request at once, saying when to retry.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A store of verified blobs shared across runs (<c>--cache DIR</c>): blobs found there are not downloaded,
    /// downloaded ones are added. <see langword="null"/> (default): no cache.
    /// </summary>
    public Caching.BlobCache? Cache { get; init; }

    /// <summary>Times a cut blob download is resumed without 1 MiB of progress in between (default 5).</summary>
    public int MaxResumeAttempts { get; init; } = 5;

    /// <summary>
    /// How long a registry may stay silent — before its answer's headers, or between two reads of a body — before the
    /// request counts as failed (then retried, or resumed, like a cut connection; default 60 s, <c>--timeout</c>).
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The most bytes per second downloaded, and separately uploaded, by all transfers of this client together
    /// (<c>--limit-rate</c>); <see langword="null"/> (default): no cap.
    /// </summary>
    public long? MaxBytesPerSecond { get; init; }

    /// <summary>
    /// Upload blobs in chunks of this many bytes (<c>PATCH</c> per chunk, <c>--upload-chunk-size</c>) for registries and
    /// proxies that cap request bodies; a registry's <c>OCI-Chunk-Min-Length</c> raises it. <see langword="null"/>
    /// (default): one streaming <c>PUT</c> per blob, which is faster.
    /// </summary>
    public long? UploadChunkSize { get; init; }

    /// <summary>The proxy; <see langword="null"/> reads <c>HTTPS_PROXY</c>/<c>HTTP_PROXY</c>/<c>NO_PROXY</c> (see <see cref="Transport.EnvironmentProxy"/>).</summary>
    public IWebProxy? Proxy { get; init; }

    /// <summary>Connections per host (default 32).</summary>
    public int MaxConnectionsPerServer { get; init; } = 32;

    /// <summary>The largest manifest or index accepted, in bytes (default 4 MiB).</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The largest image config accepted, in bytes (default 8 MiB).</summary>
    public int MaxConfigBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>The User-Agent sent with every request.</summary>
    public string UserAgent { get; init; } = "ferry/" + (typeof(RegistryClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0");

    /// <summary>Docker's and the containers tools' certificate directories: <c>/etc/docker/certs.d</c>, <c>/etc/containers/certs.d</c>, <c>~/.config/containers/certs.d</c>.</summary>
    /// <returns>The roots.</returns>
    public static IReadOnlyList<string> DefaultCertificateRoots()
    {
        var roots = new List<string> { "/etc/docker/certs.d", "/etc/containers/certs.d" };
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 0)
        {
            roots.Add(Path.Combine(home, ".config", "containers", "certs.d"));
        }

        return roots;
    }
}

/// <summary>What one registry is reached with, over the run-wide <see cref="RegistryClientOptions"/>.</summary>
/// <param name="TlsVerify"><see langword="false"/>: plain HTTP allowed and certificates not verified (skopeo's <c>tls-verify: false</c>); <see langword="null"/>: as the run says.</param>
/// <param name="CertDirectory">A certs.d-style directory for this registry (<c>*.crt</c> CAs, <c>*.cert</c>+<c>*.key</c> client pairs); <see langword="null"/>: as the run says.</param>
public sealed record RegistryHostOptions(bool? TlsVerify, string? CertDirectory);
