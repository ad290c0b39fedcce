using System.Collections.Concurrent;

namespace Ferry.Registry.Auth;

/// <summary>
/// Authorization header values cached per registry and scope, valid until the token's <c>expires_in</c>
/// (minus a safety margin). One instance per client; no static state.
/// </summary>
public sealed class TokenCache
{
    private readonly ConcurrentDictionary<(string Registry, string Scope), Entry> _entries = new();
    private readonly TimeProvider _time;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public TokenCache(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Gets a cached, unexpired header value.</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="scope">The scope, e.g. <c>repository:library/nginx:pull</c>.</param>
    /// <returns>The <c>Authorization</c> value, or <see langword="null"/>.</returns>
    public string? Get(string registry, string scope) =>
        _entries.TryGetValue((registry, scope), out var entry) && entry.ExpiresAt > _time.GetUtcNow() ? entry.HeaderValue : null;

    /// <summary>Stores a header value.</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="scope">The scope.</param>
    /// <param name="headerValue">The full <c>Authorization</c> value, e.g. <c>Bearer …</c>.</param>
    /// <param name="lifetime">How long the token is valid.</param>
    public void Set(string registry, string scope, string headerValue, TimeSpan lifetime)
    {
        var margin = lifetime > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(10) : TimeSpan.Zero;
        _entries[(registry, scope)] = new Entry(headerValue, _time.GetUtcNow() + lifetime - margin);
    }

    /// <summary>Forgets a header value (after the registry refused it).</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="scope">The scope.</param>
    public void Remove(string registry, string scope) => _entries.TryRemove((registry, scope), out _);

    private sealed record Entry(string HeaderValue, DateTimeOffset ExpiresAt);
}
