namespace Ferry.Registry.Transport;

/// <summary>One logical request: re-created for every attempt and every redirect hop.</summary>
internal sealed record HttpRequestSpec(HttpMethod Method, Uri Uri, string What, string Registry)
{
    /// <summary>Media types for the Accept header.</summary>
    public IReadOnlyList<string>? Accept { get; init; }

    /// <summary>The Authorization value; sent only to <see cref="Uri"/>'s own origin, never after a redirect to another host.</summary>
    public string? Authorization { get; init; }

    /// <summary>A <c>Range: bytes=N-</c> start.</summary>
    public long? RangeFrom { get; init; }

    /// <summary>Creates the body (a fresh one per attempt).</summary>
    public Func<HttpContent>? Content { get; init; }

    /// <summary>Told how many body bytes went out, as they go (an upload counts what it sent).</summary>
    public Action<long>? Sent { get; init; }

    /// <summary>Whether transient failures are retried.</summary>
    public bool Retry { get; init; } = true;

    /// <summary>Whether a redirect target on a loopback or private address is acceptable.</summary>
    public bool AllowLocalRedirects { get; init; }

    /// <summary>Checks each redirect target; returns an error message to refuse it.</summary>
    public Func<Uri, CancellationToken, Task<string?>>? ValidateRedirect { get; init; }
}
