namespace Ferry.Registry;

/// <summary>Settings of a <see cref="RegistryClient"/>.</summary>
public sealed record RegistryClientOptions
{
    /// <summary>Talk plain HTTP to every registry (<c>--plain-http</c>). Loopback registries fall back to HTTP anyway.</summary>
    public bool PlainHttp { get; init; }

    /// <summary>The largest manifest or index accepted, in bytes (default 4 MiB).</summary>
    public int MaxManifestBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The largest image config accepted, in bytes (default 8 MiB).</summary>
    public int MaxConfigBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>The User-Agent sent with every request.</summary>
    public string UserAgent { get; init; } = "ferry/" + (typeof(RegistryClientOptions).Assembly.GetName().Version?.ToString(3) ?? "0");
}
