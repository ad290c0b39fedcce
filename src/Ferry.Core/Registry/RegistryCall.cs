using System.Net;

namespace Ferry.Registry;

/// <summary>One call to a repository's API: what to send, under which scope, and which non-2xx answers are expected.</summary>
internal sealed record RegistryCall(HttpMethod Method, string Path, string What)
{
    public IReadOnlyList<string>? Accept { get; init; }

    public long? RangeFrom { get; init; }

    /// <summary>Creates the body, once per attempt.</summary>
    public Func<HttpContent>? Content { get; init; }

    /// <summary>Told how many body bytes went out, as they go.</summary>
    public Action<long>? Sent { get; init; }

    /// <summary>Whether transient failures are retried by the transport (an upload session retries its own way).</summary>
    public bool Retry { get; init; } = true;

    /// <summary>Ask for <c>pull,push</c> on the repository instead of <c>pull</c>.</summary>
    public bool Push { get; init; }

    /// <summary>A repository to cross-mount from (its <c>pull</c> scope is asked for too).</summary>
    public string? MountFrom { get; init; }

    /// <summary>The token scope the call needs, when not its repository's (<c>registry:catalog:*</c>).</summary>
    public string? Scope { get; init; }

    /// <summary>An absolute URI (an upload session's Location) instead of <see cref="Path"/>.</summary>
    public Uri? AbsoluteUri { get; init; }

    /// <summary>Statuses returned to the caller instead of thrown (e.g. 404 for HEAD, 202 for a mount that became an upload).</summary>
    public Func<HttpStatusCode, bool>? AcceptStatus { get; init; }
}
