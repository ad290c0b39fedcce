using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Ferry.Diagnostics;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry.Transport;
using Microsoft.Extensions.Logging;

namespace Ferry.Registry.Auth;

/// <summary>
/// Registry authentication as a step of the HTTP handler chain (as go-containerregistry's bearer transport and the
/// .NET SDK's auth handshake handler do): a request that names its scope (<see cref="RegistryScope"/>) gets a cached
/// or pre-fetched <c>Authorization</c> for it; a 401 is answered once — the challenge parsed (RFC 7235), credentials
/// looked up, a Bearer token fetched from the realm (checked: https, no user info, no internal address) or Basic
/// used — and the request sent again; a second 401 goes back to the caller. Tokens are cached per registry and scope
/// until they expire. Requests without a scope (another origin, a token service) pass through untouched.
/// </summary>
internal sealed class RegistryAuthHandler(ICredentialProvider credentials, RegistryClientOptions options, ILogger logger, RegistryHttp http) : DelegatingHandler
{
    private readonly TokenCache _tokens = new();
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (!request.Options.TryGetValue(RegistryRequest.ScopeKey, out var scoped) || scoped is null)
        {
            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        var (image, scope, baseUri) = scoped;
        var authorization = _tokens.Get(image.Registry, scope) ?? await PreAuthorizeAsync(image, scope, baseUri, cancellationToken).ConfigureAwait(false);
        RegistryRequest.SetAuthorization(request, authorization);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized)
        {
            return response;
        }

        // Refresh once (expired or insufficient token), then give up: no 401 loop.
        var challenges = AuthChallenge.Parse(response.Headers.WwwAuthenticate.Select(h => h.ToString()));
        response.Dispose();
        _tokens.Remove(image.Registry, scope);
        var credential = await GetCredentialAsync(image, cancellationToken).ConfigureAwait(false);
        authorization = await AuthorizeAsync(image, scope, challenges, baseUri, RegistryRequest.What(request), credential, cancellationToken).ConfigureAwait(false);
        RegistryRequest.SetAuthorization(request, authorization);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    private async Task<RegistryCredential?> GetCredentialAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var credential = await credentials.GetAsync(image.Registry, image.Repository, cancellationToken).ConfigureAwait(false);
        if (credential is not null)
        {
            Log.UsingCredentials(logger, image.Registry, credential.ToString());
        }

        return credential;
    }

    private async Task<string?> PreAuthorizeAsync(ImageReference image, string scope, Uri baseUri, CancellationToken cancellationToken)
    {
        // Once a registry has challenged us, ask for tokens of new scopes up front instead of paying a 401 each time.
        if (!_challenges.TryGetValue(image.Registry, out var challenge))
        {
            return null;
        }

        var credential = await GetCredentialAsync(image, cancellationToken).ConfigureAwait(false);
        return await AuthorizeAsync(image, scope, [challenge], baseUri, image.ToString(), credential, cancellationToken).ConfigureAwait(false);
    }

    internal async Task<string?> AuthorizeAsync(ImageReference image, string? scope, IReadOnlyList<AuthChallenge> challenges, Uri baseUri, string what, RegistryCredential? credential, CancellationToken cancellationToken)
    {
        var bearer = challenges.FirstOrDefault(c => c.Scheme == "bearer" && c["realm"] is not null);
        if (bearer is not null)
        {
            _challenges[image.Registry] = bearer;
            var (token, lifetime) = await FetchTokenAsync(image, bearer, scope, credential, baseUri, what, cancellationToken).ConfigureAwait(false);
            var header = "Bearer " + token;
            if (scope is not null)
            {
                _tokens.Set(image.Registry, scope, header, lifetime);
            }

            return header;
        }

        if (challenges.Any(c => c.Scheme == "basic"))
        {
            _challenges[image.Registry] = challenges.First(c => c.Scheme == "basic");
            if (credential is null)
            {
                throw new AuthenticationFailedException($"{what}: {image.Registry} requires a user name and password, and none are configured (ferry login / docker login)");
            }

            if (credential.IdentityToken is not null && credential.Password.Length == 0)
            {
                throw new AuthenticationFailedException($"{what}: {image.Registry} asks for a password, but only an identity token is stored ({credential.Source})");
            }

            if (baseUri.Scheme == Uri.UriSchemeHttp && !HostRules.IsLoopback(image.RegistryHost) && !options.PlainHttp && !options.For(image.Registry).Insecure)
            {
                throw new AuthenticationFailedException($"{what}: refusing to send a password over plain HTTP to {image.Registry}");
            }

            var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));
            if (scope is not null)
            {
                _tokens.Set(image.Registry, scope, header, TimeSpan.FromHours(12));
            }

            return header;
        }

        throw new AuthenticationFailedException(challenges.Count == 0
            ? $"{what}: {image.Registry} answered 401 without an authentication challenge"
            : $"{what}: {image.Registry} requires authentication with an unsupported scheme ({string.Join(", ", challenges.Select(c => c.Scheme))})");
    }

    private async Task<(string Token, TimeSpan Lifetime)> FetchTokenAsync(ImageReference image, AuthChallenge challenge, string? scope, RegistryCredential? credential, Uri baseUri, string what, CancellationToken cancellationToken)
    {
        var realm = await ValidateRealmAsync(challenge["realm"]!, baseUri, image.Registry, cancellationToken).ConfigureAwait(false);
        var service = challenge["service"];
        var spec = new HttpRequestSpec(HttpMethod.Get, realm, what, image.Registry)
        {
            AllowLocalRedirects = await HostRules.IsLocalAsync(image.RegistryHost, cancellationToken).ConfigureAwait(false),
            ValidateRedirect = async (next, token) =>
            {
                try
                {
                    await ValidateRealmAsync(next.ToString(), baseUri, image.Registry, token).ConfigureAwait(false);
                    return null;
                }
                catch (AuthenticationFailedException ex)
                {
                    return "a token service redirect: " + ex.Message;
                }
            },
        };

        if (credential?.IdentityToken is { } identityToken)
        {
            // OAuth2 refresh-token grant (distribution's token spec, "oauth.md"): POST a form to the realm.
            var form = new List<KeyValuePair<string, string>>
            {
                new("grant_type", "refresh_token"),
                new("refresh_token", identityToken),
                new("client_id", "ferry"),
            };
            if (service is not null)
            {
                form.Add(new("service", service));
            }

            if (scope is not null)
            {
                form.Add(new("scope", scope));
            }

            spec = spec with { Method = HttpMethod.Post, Content = () => new FormUrlEncodedContent(form) };
        }
        else
        {
            var query = new StringBuilder();
            if (service is not null)
            {
                query.Append("service=").Append(Uri.EscapeDataString(service));
            }

            foreach (var part in scope?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? [])
            {
                query.Append(query.Length > 0 ? "&" : string.Empty).Append("scope=").Append(Uri.EscapeDataString(part));
            }

            var builder = new UriBuilder(realm) { Query = string.Join('&', new[] { realm.Query.TrimStart('?'), query.ToString() }.Where(q => q.Length > 0)) };
            spec = spec with { Uri = builder.Uri };
            if (credential is not null)
            {
                spec = spec with { Authorization = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")) };
            }
        }

        using var response = await http.SendAsync(spec, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.BadRequest && credential is not null)
        {
            var kind = credential!.IdentityToken is not null && credential.Password.Length == 0 ? "identity token" : $"credentials for user \"{credential.Username}\"";
            throw new AuthenticationFailedException($"{what}: {image.Registry} refused the {kind} (from {credential.Source})");
        }

        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new AuthenticationFailedException($"{what}: {image.Registry} refused anonymous access; log in first (ferry login {image.Registry})");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new RegistryException($"{what}: token service of {image.Registry} returned {(int)response.StatusCode}", (int)response.StatusCode);
        }

        // Token bodies are never logged: they are secrets.
        var body = await RegistryClient.ReadLimitedAsync(response, 1024 * 1024, what, cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            string? Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var token = Field("token") is { Length: > 0 } t ? t : Field("access_token") is { Length: > 0 } a ? a : throw new RegistryException($"{what}: token service of {image.Registry} returned no token");
            if (Redaction.HasControlCharacters(token))
            {
                // A token with CR/LF would end the Authorization header and smuggle another one in.
                throw new AuthenticationFailedException($"{what}: token service of {image.Registry} returned a token with control characters; refused");
            }

            var seconds = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) && s > 0 ? s : 60;
            Log.TokenIssued(logger, image.Registry, scope ?? "(none)", seconds);
            return (token, TimeSpan.FromSeconds(seconds));
        }
        catch (JsonException)
        {
            throw new RegistryException($"{what}: token service of {image.Registry} returned malformed JSON");
        }
    }

    /// <summary>
    /// A token realm is where credentials are sent, so it must be https (http only when the registry itself is
    /// reached over http), carry no user info, and not point at link-local, unspecified or (unless it is the
    /// registry's own host, or the registry is itself local) loopback and private addresses.
    /// </summary>
    private async Task<Uri> ValidateRealmAsync(string realm, Uri registryBase, string registry, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp) || uri.UserInfo.Length > 0)
        {
            throw new AuthenticationFailedException($"{registry} sent an invalid token realm");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && registryBase.Scheme != Uri.UriSchemeHttp && !options.For(registry).Insecure)
        {
            throw new AuthenticationFailedException($"{registry} asked for credentials to be sent over plain HTTP to {uri.Host}; refused");
        }

        var sameHost = string.Equals(uri.IdnHost, registryBase.IdnHost, StringComparison.OrdinalIgnoreCase);
        if (!sameHost && await HostRules.IsForbiddenTargetAsync(uri.Host, allowLocal: await HostRules.IsLocalAsync(registryBase.Authority, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            throw new AuthenticationFailedException($"{registry} named the internal address {uri.Host} as its token service; refused");
        }

        return uri;
    }

    internal void RememberChallenge(string registry, HttpResponseMessage response)
    {
        if (response.StatusCode == HttpStatusCode.Unauthorized &&
            AuthChallenge.Parse(response.Headers.WwwAuthenticate.Select(h => h.ToString())).FirstOrDefault(c => c.Scheme == "bearer" && c["realm"] is not null) is { } bearer)
        {
            _challenges.TryAdd(registry, bearer);
        }
    }
}
