namespace Ferry.Server;

/// <summary>How the access log is written.</summary>
public enum AccessLogFormat
{
    /// <summary>One plain line per request.</summary>
    Plain,

    /// <summary>One JSON object per request.</summary>
    Json,

    /// <summary>No access log.</summary>
    None,
}

/// <summary>What <c>ferry serve</c> serves and how.</summary>
public sealed record ServeOptions
{
    /// <summary>The archives (any format Ferry reads; the first part of a split archive stands for all).</summary>
    public required IReadOnlyList<string> Archives { get; init; }

    /// <summary>The address to listen on, <c>HOST:PORT</c> (default <c>127.0.0.1:5000</c>; <c>0.0.0.0:5443</c>, <c>[::]:5000</c>).</summary>
    public string Listen { get; init; } = "127.0.0.1:5000";

    /// <summary>A PEM certificate (chain) for HTTPS; with <see cref="TlsKey"/>.</summary>
    public string? TlsCertificate { get; init; }

    /// <summary>The PEM private key of <see cref="TlsCertificate"/>.</summary>
    public string? TlsKey { get; init; }

    /// <summary>An htpasswd file (bcrypt entries, as docker-registry's): every request needs Basic credentials from it.</summary>
    public string? Htpasswd { get; init; }

    /// <summary>The most connections served at once (<see langword="null"/>: no limit).</summary>
    public long? MaxConnections { get; init; }

    /// <summary>
    /// The most connections one client address holds at once (<see langword="null"/>: half of
    /// <see cref="MaxConnections"/>, or no cap without it), so a few slow clients cannot take every connection.
    /// </summary>
    public int? MaxConnectionsPerClient { get; init; }

    /// <summary>The most blob bytes per second sent to all clients together (<c>--limit-rate</c>; <see langword="null"/>: no cap).</summary>
    public long? MaxBytesPerSecond { get; init; }

    /// <summary>The access log's format.</summary>
    public AccessLogFormat LogFormat { get; init; } = AccessLogFormat.Plain;

    /// <summary>Where the access log goes (default: standard error).</summary>
    public TextWriter? AccessLog { get; init; }
}
