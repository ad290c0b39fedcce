using System.Collections.Concurrent;
using System.Net;
using Ferry.Content;
using Ferry.Diagnostics;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry.Auth;
using Ferry.Registry.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ferry.Registry;

/// <summary>
/// A client of the OCI distribution spec v1.1 (the Docker Registry HTTP API v2) for pulling: manifests and
/// blobs, with anonymous, Basic and Bearer-token authentication (password or identity token), certs.d TLS,
/// retries, resumable blob downloads and safe redirects. Everything it returns is verified against its digest
/// and size. Thread-safe; one instance serves any number of registries.
/// </summary>
public sealed partial class RegistryClient : IDisposable
{
    private readonly RegistryHttp _http;
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, Lazy<Task<Uri>>> _endpoints = new(StringComparer.Ordinal);
    private readonly RegistryAuthHandler _auth;
    private readonly HttpMessageInvoker _invoker;

    /// <summary>Creates a client.</summary>
    /// <param name="credentials">Where credentials come from; anonymous when <see langword="null"/>.</param>
    /// <param name="options">Settings; defaults when <see langword="null"/>.</param>
    /// <param name="logger">Receives debug detail and retry warnings (never secrets).</param>
    /// <param name="handler">One HTTP handler for every host (tests, custom stacks); by default each host gets its own with its TLS settings.</param>
    public RegistryClient(ICredentialProvider? credentials = null, RegistryClientOptions? options = null, ILogger? logger = null, HttpMessageHandler? handler = null)
    {
        _options = options ?? new RegistryClientOptions();
        _logger = logger ?? NullLogger.Instance;
        _http = new RegistryHttp(_options, _logger, handler);
        _auth = new RegistryAuthHandler(credentials ?? AnonymousCredentialProvider.Instance, _options, _logger, _http) { InnerHandler = new RegistryTransportHandler(_http) };
        _invoker = new HttpMessageInvoker(_auth, disposeHandler: true);
    }

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
        using var response = await SendAsync(image, $"manifests/{reference}", what, MediaTypes.ManifestAccept, null, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength is { } length && length > _options.MaxManifestBytes)
        {
            throw new RegistryException($"{what}: manifest of {length} bytes exceeds the {_options.MaxManifestBytes}-byte limit");
        }

        var content = await ReadLimitedAsync(response, _options.MaxManifestBytes, what, cancellationToken, _options.IdleTimeout).ConfigureAwait(false);
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

        try
        {
            return await ReadBlobBytesAsync(image, descriptor, cancellationToken).ConfigureAwait(false);
        }
        catch (DigestMismatchException) when (_options.Cache is not null)
        {
            // A damaged cache entry was removed by the failed read: fetched from the registry.
            return await ReadBlobBytesAsync(image, descriptor, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<byte[]> ReadBlobBytesAsync(ImageReference image, Descriptor descriptor, CancellationToken cancellationToken)
    {
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

    /// <summary>
    /// Opens a blob for streaming. The returned stream verifies size and digest as it is read to its end, and
    /// resumes a cut download with <c>Range</c> requests transparently.
    /// </summary>
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
        if (_options.Cache?.OpenRead(descriptor, image.Name) is { } cached)
        {
            return cached;
        }

        var what = $"{image.Name}@{descriptor.Digest}";
        var first = await OpenBodyAsync(image, descriptor, what, 0, cancellationToken).ConfigureAwait(false);
        var resuming = new ResumingReadStream(
            first,
            descriptor.Size,
            what,
            (offset, token) => OpenBodyAsync(image, descriptor, what, offset, token),
            _options.MaxResumeAttempts,
            _options.RetryDelay,
            _logger);
        return _options.Cache is { } cache ? cache.Fill(descriptor, resuming, image.Name) : new VerifyingReadStream(resuming, descriptor, image.Name);
    }

    /// <summary>The cross-run blob cache, when one is set.</summary>
    internal Caching.BlobCache? Cache => _options.Cache;

    /// <summary>Where the client's warnings go, for the parts of a run that act through it.</summary>
    internal ILogger Logger => _logger;

    /// <summary>
    /// Opens a blob's bytes from <paramref name="offset"/> on (a download continued from an earlier run), resuming cut
    /// connections like <see cref="OpenBlobAsync"/>. The stream is not verified: the caller hashes the prefix it holds
    /// together with these bytes.
    /// </summary>
    internal async Task<Stream> OpenBlobFromAsync(ImageReference image, Descriptor descriptor, long offset, CancellationToken cancellationToken)
    {
        var what = $"{image.Name}@{descriptor.Digest}";
        var first = await OpenBodyAsync(image, descriptor, what, offset, cancellationToken).ConfigureAwait(false);
        return new ResumingReadStream(
            first,
            descriptor.Size,
            what,
            (at, token) => OpenBodyAsync(image, descriptor, what, at, token),
            _options.MaxResumeAttempts,
            _options.RetryDelay,
            _logger,
            offset);
    }

    /// <summary>
    /// Checks credentials against a registry (<c>ferry login</c>): <c>GET /v2/</c>, answering its challenge with
    /// the credentials (Basic, or a token fetched with them).
    /// </summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="credential">The credentials to check.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>A task that completes when the registry accepted them.</returns>
    /// <exception cref="AuthenticationFailedException">The registry refused them.</exception>
    /// <exception cref="RegistryException">The registry failed or could not be reached.</exception>
    public async Task CheckCredentialsAsync(string registry, RegistryCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(credential);
        var image = ImageReference.Parse($"{registry}/ferry-login-check");
        var baseUri = await GetEndpointAsync(image, cancellationToken).ConfigureAwait(false);
        var uri = new Uri(baseUri, "/v2/");
        var what = $"login to {registry}";
        using var anonymous = await _http.SendAsync(new HttpRequestSpec(HttpMethod.Get, uri, what, registry), cancellationToken).ConfigureAwait(false);
        if (anonymous.StatusCode != HttpStatusCode.Unauthorized)
        {
            if (!anonymous.IsSuccessStatusCode)
            {
                throw await RegistryErrors.FromResponseAsync(anonymous, what, registry, cancellationToken).ConfigureAwait(false);
            }

            return; // The registry does not ask for credentials at all.
        }

        var challenges = AuthChallenge.Parse(anonymous.Headers.WwwAuthenticate.Select(h => h.ToString()));
        var authorization = await _auth.AuthorizeAsync(image, scope: null, challenges, baseUri, what, credential, cancellationToken).ConfigureAwait(false);
        using var checkedResponse = await _http.SendAsync(new HttpRequestSpec(HttpMethod.Get, uri, what, registry) { Authorization = authorization }, cancellationToken).ConfigureAwait(false);
        if (checkedResponse.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new AuthenticationFailedException($"{what}: {registry} refused the credentials for user \"{credential.Username}\"");
        }

        if (!checkedResponse.IsSuccessStatusCode)
        {
            throw await RegistryErrors.FromResponseAsync(checkedResponse, what, registry, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _invoker.Dispose();
        _http.Dispose();
    }

    /// <summary>Opens the blob body at <paramref name="offset"/>: a verified 206, or a full 200 body with the prefix skipped.</summary>
    private async Task<Stream> OpenBodyAsync(ImageReference image, Descriptor descriptor, string what, long offset, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await SendAsync(image, $"blobs/{descriptor.Digest}", what, null, offset > 0 ? offset : null, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryException ex) when (offset > 0 && ex.StatusCode == 416)
        {
            Log.RangeNotHonoured(_logger, what, offset, "416");
            response = await SendAsync(image, $"blobs/{descriptor.Digest}", what, null, null, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            if (offset > 0 && response.StatusCode == HttpStatusCode.PartialContent)
            {
                var range = response.Content.Headers.ContentRange;
                if (range is { HasRange: true, From: { } from, To: { } to } && range.Unit == "bytes" && from == offset && to == descriptor.Size - 1 &&
                    (range.Length is null || range.Length == descriptor.Size))
                {
                    var partial = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    return new IdleTimeoutStream(new ResponseOwningStream(partial, response), _options.IdleTimeout, image.Registry, _http.DownloadLimit);
                }

                Log.RangeNotHonoured(_logger, what, offset, $"206 with Content-Range {range}");
                response.Dispose();
                response = await SendAsync(image, $"blobs/{descriptor.Digest}", what, null, null, cancellationToken).ConfigureAwait(false);
            }
            else if (offset > 0)
            {
                Log.RangeNotHonoured(_logger, what, offset, $"{(int)response.StatusCode}");
            }

            if (response.StatusCode == HttpStatusCode.PartialContent)
            {
                throw new RegistryException($"{what}: the registry answered 206 to a request without Range", 206);
            }

            if (response.Content.Headers.ContentLength is { } length && length != descriptor.Size)
            {
                throw new DigestMismatchException($"{what}: registry announced {length} bytes, the descriptor says {descriptor.Size}");
            }

            var body = new IdleTimeoutStream(new ResponseOwningStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), response), _options.IdleTimeout, image.Registry, _http.DownloadLimit);
            if (offset > 0)
            {
                await SkipAsync(body, offset, cancellationToken).ConfigureAwait(false);
            }

            return body;
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static async Task SkipAsync(Stream stream, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[81920];
        while (count > 0)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException($"the body ended {count} bytes before the resume offset");
            }

            count -= n;
        }
    }

    private Task<HttpResponseMessage> SendAsync(ImageReference image, string path, string what, IReadOnlyList<string>? accept, long? rangeFrom, CancellationToken cancellationToken) =>
        SendAsync(image, new RegistryCall(HttpMethod.Get, path, what) { Accept = accept, RangeFrom = rangeFrom }, cancellationToken);

    /// <summary>
    /// Sends one registry call. Authentication is the handler chain's (<see cref="RegistryAuthHandler"/>): the call only
    /// says which scope it needs. Statuses the call accepts are returned; other failures throw, typed, with the
    /// method, the URI and the registry's error code.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(ImageReference image, RegistryCall call, CancellationToken cancellationToken)
    {
        var baseUri = await GetEndpointAsync(image, cancellationToken).ConfigureAwait(false);
        var uri = call.AbsoluteUri ?? new Uri(baseUri, $"/v2/{image.Repository}/{call.Path}");
        var scope = call.Scope ?? (call.Push
            ? $"repository:{image.Repository}:pull,push" + (call.MountFrom is { } from ? $" repository:{from}:pull" : string.Empty)
            : $"repository:{image.Repository}:pull");
        var spec = new HttpRequestSpec(call.Method, uri, call.What, image.Registry)
        {
            Accept = call.Accept,
            RangeFrom = call.RangeFrom,
            Content = call.Content,
            Sent = call.Sent,
            Retry = call.Retry,
            AllowLocalRedirects = await HostRules.IsLocalAsync(image.RegistryHost, cancellationToken).ConfigureAwait(false),
        };

        // Credentials only go to the registry's own origin (an upload Location on another host gets none).
        var sendsCredentials = HostRules.SameOrigin(uri, baseUri);
        using var request = RegistryRequest.Create(spec, sendsCredentials ? new RegistryScope(image, scope, baseUri) : null);
        var response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode && !(call.AcceptStatus?.Invoke(response.StatusCode) ?? false))
        {
            using (response)
            {
                throw await RegistryErrors.FromResponseAsync(response, call.What, image.Registry, cancellationToken).ConfigureAwait(false);
            }
        }

        return response;
    }

    private Task<Uri> GetEndpointAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var lazy = _endpoints.GetOrAdd(image.Registry, _ => new Lazy<Task<Uri>>(() => ResolveEndpointAsync(image, cancellationToken)));
        if (lazy.Value.IsFaulted || lazy.Value.IsCanceled)
        {
            _endpoints.TryRemove(new KeyValuePair<string, Lazy<Task<Uri>>>(image.Registry, lazy));
        }

        return lazy.Value;
    }

    /// <summary>
    /// HTTPS unless <c>--plain-http</c>. Loopback registries and <c>--insecure</c> ones are pinged over HTTPS first and
    /// fall back to HTTP when the port does not speak TLS — never when it presented a certificate (refused, or
    /// the handshake failed later, e.g. for want of a client certificate).
    /// The ping's challenge is remembered, so the first real request can carry a token.
    /// </summary>
    private async Task<Uri> ResolveEndpointAsync(ImageReference image, CancellationToken cancellationToken)
    {
        var host = image.RegistryHost;
        if (_options.PlainHttp)
        {
            return new Uri("http://" + host);
        }

        var https = new Uri("https://" + host);
        if (!HostRules.IsLoopback(host) && !_options.For(image.Registry).Insecure)
        {
            return https;
        }

        var ping = new Uri(https, "/v2/");
        try
        {
            using var response = await _http.SendAsync(new HttpRequestSpec(HttpMethod.Get, ping, $"{image.Registry}: ping", image.Registry) { Retry = false }, cancellationToken).ConfigureAwait(false);
            _auth.RememberChallenge(image.Registry, response);
            return https;
        }
        catch (RegistryException ex) when (ex.InnerException is HttpRequestException && !_http.SpeaksTls(ping))
        {
            Log.FallingBackToHttp(_logger, host);
        }

        var http = new Uri("http://" + host);
        try
        {
            using var response = await _http.SendAsync(new HttpRequestSpec(HttpMethod.Get, new Uri(http, "/v2/"), $"{image.Registry}: ping", image.Registry) { Retry = false }, cancellationToken).ConfigureAwait(false);
            _auth.RememberChallenge(image.Registry, response);
        }
        catch (RegistryException)
        {
            // The real requests report an unreachable registry, with retries.
        }

        return http;
    }

    internal static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, string what, CancellationToken cancellationToken, TimeSpan? idleTimeout = null)
    {
        await using var stream = new IdleTimeoutStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), idleTimeout ?? TimeSpan.FromSeconds(60), response.RequestMessage?.RequestUri?.Authority ?? what);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int n;
        try
        {
            while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > limit)
                {
                    throw new RegistryException($"{what}: response exceeds the {limit}-byte limit");
                }

                buffer.Write(chunk, 0, n);
            }
        }
        catch (IOException ex)
        {
            throw new RegistryException($"{what}: the answer broke off: {ex.Message}", null, ex);
        }

        return buffer.ToArray();
    }
}
