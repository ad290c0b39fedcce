using Ferry.References;

namespace Ferry.Registry.Transport;

/// <summary>What a request needs authorization for: the image's registry and repository scope, and the registry's base URI.</summary>
/// <param name="Image">The image (registry, repository).</param>
/// <param name="Scope">The token scope, e.g. <c>repository:library/nginx:pull</c>.</param>
/// <param name="BaseUri">The registry's endpoint (https or http).</param>
internal sealed record RegistryScope(ImageReference Image, string Scope, Uri BaseUri);

/// <summary>
/// The <see cref="HttpRequestMessage"/> that travels the registry client's handler chain: it carries the logical
/// request (<see cref="HttpRequestSpec"/>, re-created by the transport for every attempt and redirect hop) and the
/// scope the auth handler authorizes it for.
/// </summary>
internal static class RegistryRequest
{
    public static readonly HttpRequestOptionsKey<HttpRequestSpec> SpecKey = new("ferry.spec");

    public static readonly HttpRequestOptionsKey<RegistryScope?> ScopeKey = new("ferry.scope");

    public static HttpRequestMessage Create(HttpRequestSpec spec, RegistryScope? scope)
    {
        var request = new HttpRequestMessage(spec.Method, spec.Uri);
        request.Options.Set(SpecKey, spec);
        request.Options.Set(ScopeKey, scope);
        return request;
    }

    public static string What(HttpRequestMessage request) => request.Options.TryGetValue(SpecKey, out var spec) ? spec.What : request.RequestUri?.ToString() ?? "request";

    public static void SetAuthorization(HttpRequestMessage request, string? authorization)
    {
        request.Headers.Remove("Authorization");
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
    }
}

/// <summary>The end of the registry client's handler chain: sends the logical request through <see cref="RegistryHttp"/> (retries, redirects, per-host TLS).</summary>
internal sealed class RegistryTransportHandler(RegistryHttp http) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(RegistryRequest.SpecKey, out var spec))
        {
            throw new InvalidOperationException("a registry request without its specification");
        }

        var authorization = request.Headers.TryGetValues("Authorization", out var values) ? values.FirstOrDefault() : null;
        return http.SendAsync(spec with { Authorization = authorization }, cancellationToken);
    }
}
