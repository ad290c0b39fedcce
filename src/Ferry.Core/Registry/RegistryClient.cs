using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ferry.Content;
using Ferry.Diagnostics;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry.Auth;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Registry;

/// <summary>
/// A client of the OCI distribution spec v1.1 (the Docker Registry HTTP API v2) for pulling: manifests
/// and blobs, with anonymous, Basic and Bearer-token authentication. Everything it returns is verified
/// against its digest and size. Thread-safe; one instance serves any number of registries.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ICredentialProvider _credentials;
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly TokenCache _tokens = new();
    private readonly ConcurrentDictionary<string, Task<Uri>> _endpoints = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AuthChallenge> _challenges = new(StringComparer.Ordinal);

    /// <summary>Creates a client.</summary>
    /// <param name="credentials">Where credentials come from; anonymous when <see langword="null"/>.</param>
    /// <param name="options">Settings; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Receives debug detail (never secrets).</param>
    /// <param name="httpClient">The HTTP client to use; one is created (and owned) when <see langword="null"/>.</param>
    public RegistryClient(ICredentialProvider? credentials = null, RegistryClientOptions? options = null, ILogger? logger = null, HttpClient? httpClient = null)
    {
        _credentials = credentials ?? AnonymousCredentialProvider.Instance;
        _options = options ?? new RegistryClientOptions();
        _logger = logger ?? NullLogger.Instance;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? CreateHttpClient();
        _http.DefaultRequestHeaders.UserAgent.TryParseAdd(_options.UserAgent);
    }

    /// <summary>Creates the HTTP client Ferry uses by default: pooled connections, no automatic decompression.</summary>
    /// <param name="maxConnectionsPerServer">The connection limit per registry host.</param>
    /// <returns>A new client.</returns>
    public static HttpClient CreateHttpClient(int maxConnectionsPerServer = 32) => new(new SocketsHttpHandler
    {
        AutomaticDecompression = DecompressionMethods.None,
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        MaxConnectionsPerServer = maxConnectionsPerServer,
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        UseCookies = false,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Fetches a manifest or index by tag or digest and verifies it.</summary>
    /// <param name="image">The image (registry and repository are used).</param>
    /// <param name="reference">A tag, or a digest which the content must match.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The parsed document with its exact bytes.</returns>
    /// <exception cref="ImageNotFoundException">The repository or manifest does not exist.</exception>
    /// <exception cref="DigestMismatchException">The content does not match the requested digest.</exception>
    /// <exception cref="UnsupportedContentException">The manifest is schema 1 or of an unknown kind.</exception>
    /// <exception cref="AuthenticationFailedException">The registry refused access.</exception>
    /// <exception cref="RegistryException">The registry failed or could not be reached.</exception>
    public async Task<ManifestDocument> GetManifestAsync(ImageReference image, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var what = $"{image.Name}{(reference.Contains(':', StringComparison.Ordinal) ? "@" : ":")}{reference}";
        using var response = await SendAsync(image, $"manifests/{reference}", HttpMethod.Get, what, MediaTypes.ManifestAccept, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength is { } length && length > _options.MaxManifestBytes)
        {
            throw new RegistryException($"{what}: manifest of {length} bytes exceeds the {_options.MaxManifestBytes}-byte limit");
        }

        var content = await ReadLimitedAsync(response, _options.MaxManifestBytes, what, cancellationToken).ConfigureAwait(false);
        var document = ManifestDocument.Parse(content, response.Content.Headers.ContentType?.MediaType, what);
        if (Digest.TryParse(reference, out var expected) && expected != document.Digest)
        {
            throw new DigestMismatchException($"{what}: registry returned a manifest with digest {document.Digest}, expected {expected}");
        }

        if (response.Headers.TryGetValues("Docker-Content-Digest", out var headerDigests) &&
            headerDigests.FirstOrDefault() is { } headerDigest && Digest.TryParse(headerDigest, out var announced) &&
            announced.Algorithm == "sha256" && announced != document.Digest)
        {
            Log.ContentDigestHeaderMismatch(_logger, what, announced.ToString(), document.Digest.ToString());
        }

        Log.ManifestFetched(_logger, what, document.MediaType, document.Digest.ToString(), content.Length);
        return document;
    }

    /// <summary>Fetches a small blob (e.g. a config) into memory, verified against its descriptor.</summary>
    /// <param name="image">The image whose repository holds the blob.</param>
    /// <param name="descriptor">The blob's descriptor.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The verified bytes.</returns>
    /// <exception cref="DigestMismatchException">The content does not match the descriptor.</exception>
    /// <exception cref="RegistryException">The blob is larger than the config limit or the registry failed.</exception>
    public async Task<byte[]> GetBlobBytesAsync(ImageReference image, Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        if (descriptor.Size > _options.MaxConfigBytes)
        {
            throw new RegistryException($"{image}: blob {descriptor.Digest.Short} of {descriptor.Size} bytes exceeds the {_options.MaxConfigBytes}-byte limit for configs");
        }

        await using var stream = await OpenBlobAsync(image, descriptor, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[descriptor.Size];
        var probe = new byte[1];
        var total = 0;
        int n;
        do
        {
            // Past the expected size, read into a probe: the verifying stream fails on extra bytes and checks the digest at end of stream.
            var target = total < buffer.Length ? buffer.AsMemory(total) : probe;
            n = await stream.ReadAsync(target, cancellationToken).ConfigureAwait(false);
            total += n;
        }
        while (n > 0);

        return buffer;
    }

    /// <summary>Opens a blob for streaming. The returned stream verifies size and digest as it is read to its end.</summary>
    /// <param name="image">The image whose repository holds the blob.</param>
    /// <param name="descriptor">The blob's descriptor.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A verifying stream; the caller disposes it.</returns>
    /// <exception cref="DigestMismatchException">The announced length differs from the descriptor size.</exception>
    /// <exception cref="ImageNotFoundException">The blob does not exist.</exception>
    /// <exception cref="RegistryException">The registry failed or could not be reached.</exception>
    public async Task<VerifyingReadStream> OpenBlobAsync(ImageReference image, Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(descriptor);
        var what = $"{image.Name}@{descriptor.Digest}";
        var response = await SendAsync(image, $"blobs/{descriptor.Digest}", HttpMethod.Get, what, null, cancellationToken).ConfigureAwait(false);
        try
        {
            if (response.Content.Headers.ContentLength is { } length && length != descriptor.Size)
            {
                throw new DigestMismatchException($"{what}: registry announced {length} bytes, the descriptor says {descriptor.Size}");
            }

            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new VerifyingReadStream(new ResponseOwningStream(body, response), descriptor, image.Name);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<HttpResponseMessage> SendAsync(ImageReference image, string path, HttpMethod method, string what, string[]? accept, CancellationToken cancellationToken)
    {
        var baseUri = await GetEndpointAsync(image, cancellationToken).ConfigureAwait(false);
        var uri = new Uri(baseUri, $"/v2/{image.Repository}/{path}");
        var scope = $"repository:{image.Repository}:pull";
        var registry = image.Registry;

        var authorization = _tokens.Get(registry, scope) ?? await PreAuthorizeAsync(image, scope, baseUri, cancellationToken).ConfigureAwait(false);
        var response = await SendOnceAsync(method, uri, accept, authorization, what, registry, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            var challenges = AuthChallenge.Parse(response.Headers.WwwAuthenticate.Select(h => h.ToString()));
            response.Dispose();
            _tokens.Remove(registry, scope);
            authorization = await AuthorizeAsync(image, scope, challenges, baseUri, what, cancellationToken).ConfigureAwait(false);
            response = await SendOnceAsync(method, uri, accept, authorization, what, registry, cancellationToken).ConfigureAwait(false);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                throw await RegistryErrors.FromResponseAsync(response, what, registry, cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendOnceAsync(HttpMethod method, Uri uri, string[]? accept, string? authorization, string what, string registry, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (accept is not null)
        {
            foreach (var type in accept)
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }
        }

        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        Log.Request(_logger, method.Method, RegistryErrors.Redact(uri));
        try
        {
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            Log.Response(_logger, (int)response.StatusCode, method.Method, RegistryErrors.Redact(uri));
            return response;
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"{what}: cannot reach registry {registry}: {ex.Message}", null, ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RegistryException($"{what}: request to registry {registry} timed out", null, ex);
        }
    }

    private async Task<string?> PreAuthorizeAsync(ImageReference image, string scope, Uri baseUri, CancellationToken cancellationToken)
    {
        // Once a registry has challenged us, ask for tokens of new scopes up front instead of paying a 401 each time.
        if (!_challenges.TryGetValue(image.Registry, out var challenge))
        {
            return null;
        }

        return await AuthorizeAsync(image, scope, [challenge], baseUri, image.ToString(), cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> AuthorizeAsync(ImageReference image, string scope, IReadOnlyList<AuthChallenge> challenges, Uri baseUri, string what, CancellationToken cancellationToken)
    {
        var credential = await _credentials.GetAsync(image.Registry, cancellationToken).ConfigureAwait(false);
        var bearer = challenges.FirstOrDefault(c => c.Scheme == "bearer" && c["realm"] is not null);
        if (bearer is not null)
        {
            _challenges[image.Registry] = bearer;
            var (token, lifetime) = await FetchTokenAsync(image, bearer, scope, credential, baseUri, what, cancellationToken).ConfigureAwait(false);
            var header = "Bearer " + token;
            _tokens.Set(image.Registry, scope, header, lifetime);
            return header;
        }

        if (challenges.Any(c => c.Scheme == "basic"))
        {
            if (credential is null)
            {
                throw new AuthenticationFailedException($"{what}: {image.Registry} requires a user name and password, and none are configured (docker login / ~/.docker/config.json)");
            }

            var header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));
            _tokens.Set(image.Registry, scope, header, TimeSpan.FromHours(12));
            return header;
        }

        throw new AuthenticationFailedException($"{what}: {image.Registry} requires authentication with an unsupported scheme ({string.Join(", ", challenges.Select(c => c.Scheme))})");
    }

    private async Task<(string Token, TimeSpan Lifetime)> FetchTokenAsync(ImageReference image, AuthChallenge challenge, string scope, RegistryCredential? credential, Uri baseUri, string what, CancellationToken cancellationToken)
    {
        var realm = ValidateRealm(challenge["realm"]!, baseUri, image.Registry);
        var query = new StringBuilder();
        if (challenge["service"] is { } service)
        {
            query.Append("service=").Append(Uri.EscapeDataString(service)).Append('&');
        }

        query.Append("scope=").Append(Uri.EscapeDataString(scope));
        var builder = new UriBuilder(realm) { Query = (string.IsNullOrEmpty(realm.Query) ? string.Empty : realm.Query.TrimStart('?') + "&") + query };
        using var request = new HttpRequestMessage(HttpMethod.Get, builder.Uri);
        if (credential is not null && credential.IdentityToken is null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}")));
        }

        Log.Request(_logger, "GET", RegistryErrors.Redact(realm));
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new RegistryException($"{what}: cannot reach the token service of {image.Registry}: {ex.Message}", null, ex);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new AuthenticationFailedException($"{what}: {image.Registry} refused the credentials{(credential is null ? " (none configured)" : $" for user \"{credential.Username}\"")}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new RegistryException($"{what}: token service of {image.Registry} returned {(int)response.StatusCode}", (int)response.StatusCode);
            }

            var body = await ReadLimitedAsync(response, 1024 * 1024, what, cancellationToken).ConfigureAwait(false);
            try
            {
                using var document = JsonDocument.Parse(body);
                var root = document.RootElement;
                string? Field(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var token = Field("token") ?? Field("access_token") ?? throw new RegistryException($"{what}: token service of {image.Registry} returned no token");
                var seconds = root.TryGetProperty("expires_in", out var e) && e.TryGetInt32(out var s) && s > 0 ? s : 60;
                return (token, TimeSpan.FromSeconds(seconds));
            }
            catch (JsonException)
            {
                throw new RegistryException($"{what}: token service of {image.Registry} returned malformed JSON");
            }
        }
    }

    private static Uri ValidateRealm(string realm, Uri registryBase, string registry)
    {
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new AuthenticationFailedException($"{registry} sent an invalid token realm");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && registryBase.Scheme != Uri.UriSchemeHttp && !uri.IsLoopback)
        {
            throw new AuthenticationFailedException($"{registry} asked for credentials to be sent over plain HTTP to {uri.Host}; refused");
        }

        return uri;
    }

    private Task<Uri> GetEndpointAsync(ImageReference image, CancellationToken cancellationToken) =>
        _endpoints.GetOrAdd(image.Registry, _ => ResolveEndpointAsync(image.RegistryHost, cancellationToken));

    private async Task<Uri> ResolveEndpointAsync(string host, CancellationToken cancellationToken)
    {
        if (_options.PlainHttp)
        {
            return new Uri("http://" + host);
        }

        var https = new Uri("https://" + host);
        if (!IsLoopback(host))
        {
            return https;
        }

        // Like docker, loopback registries are insecure by default: try HTTPS, fall back to HTTP.
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(https, "/v2/"));
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            return https;
        }
        catch (HttpRequestException)
        {
            Log.FallingBackToHttp(_logger, host);
            return new Uri("http://" + host);
        }
    }

    private static bool IsLoopback(string host)
    {
        var name = host;
        if (name.StartsWith('['))
        {
            name = name[1..name.IndexOf(']', StringComparison.Ordinal)];
        }
        else if (name.LastIndexOf(':') is var colon and > 0)
        {
            name = name[..colon];
        }

        return name.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address));
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, string what, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > limit)
            {
                throw new RegistryException($"{what}: response exceeds the {limit}-byte limit");
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }
}
