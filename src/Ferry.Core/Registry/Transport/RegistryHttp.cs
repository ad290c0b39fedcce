using System.Net;
using System.Net.Http.Headers;
using Ferry.Diagnostics;
using Ferry.Errors;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Ferry.Registry.Transport;

/// <summary>
/// Sends registry requests: retries with exponential backoff and jitter on connection errors, 408, 429 and 5xx
/// (honouring <c>Retry-After</c> up to a cap; 401/403/404 are never retried here), follows up to 10 redirects by
/// hand (no Authorization to another origin, no https→http downgrade, no hop to link-local or, unless the
/// registry is local itself, private addresses), and logs every hop without query strings or secrets.
/// </summary>
internal sealed class RegistryHttp : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly RegistryClientOptions _options;
    private readonly ILogger _logger;
    private readonly HostHandlers _handlers;
    private readonly ResiliencePipeline<HttpResponseMessage> _retry;

    public RegistryHttp(RegistryClientOptions options, ILogger logger, HttpMessageHandler? sharedHandler)
    {
        _options = options;
        if (options.MaxBytesPerSecond is { } rate)
        {
            UploadLimit = new Content.BandwidthLimit(rate);
            DownloadLimit = new Content.BandwidthLimit(rate);
        }

        _logger = logger;
        _handlers = new HostHandlers(options, logger, sharedHandler);
        _retry = options.MaxAttempts <= 1
            ? ResiliencePipeline<HttpResponseMessage>.Empty
            : new ResiliencePipelineBuilder<HttpResponseMessage>()
                .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
                {
                    MaxRetryAttempts = options.MaxAttempts - 1,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    Delay = options.RetryDelay,
                    MaxDelay = TimeSpan.FromSeconds(30),
                    ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context.CancellationToken, args.Context.Properties.GetValue(LoopbackKey, false))),
                    DelayGenerator = args => ValueTask.FromResult(args.Outcome.Result is { } response ? RetryAfter(response) : null),
                    OnRetry = args =>
                    {
                        var what = args.Context.Properties.GetValue(WhatKey, "request");
                        var cause = args.Outcome.Result is { } r ? $"{(int)r.StatusCode} {r.ReasonPhrase}" : args.Outcome.Exception?.Message ?? "error";
                        Log.Retrying(_logger, what, cause, args.RetryDelay.TotalSeconds, args.AttemptNumber + 2, options.MaxAttempts);
                        return default;
                    },
                })
                .Build();
    }

    /// <summary>The cap on bytes sent per second (all uploads together), when one is set.</summary>
    public Content.BandwidthLimit? UploadLimit { get; }

    /// <summary>The cap on bytes received per second (all downloads together), when one is set.</summary>
    public Content.BandwidthLimit? DownloadLimit { get; }

    private static ResiliencePropertyKey<string> WhatKey { get; } = new("ferry.what");

    /// <summary>Whether the request goes to this machine (a refused connection there is a wrong port, not a restart).</summary>
    private static ResiliencePropertyKey<bool> LoopbackKey { get; } = new("ferry.loopback");

    /// <summary>Why a host's certificate was refused, if it was.</summary>
    public string? CertificateFailure(Uri uri) => _handlers.CertificateFailure(uri);

    /// <summary>Whether the host presented a TLS certificate (it speaks TLS, even if the connection failed later).</summary>
    public bool SpeaksTls(Uri uri) => _handlers.PresentedCertificate(uri);

    /// <summary>Sends the request (with retries and redirects) and returns the final response, whatever its status.</summary>
    /// <exception cref="RegistryException">The host could not be reached (after retries), or a redirect was refused.</exception>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestSpec spec, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(WhatKey, spec.What);
        context.Properties.Set(LoopbackKey, HostRules.IsLoopback(spec.Uri.Host));
        try
        {
            var pipeline = spec.Retry ? _retry : ResiliencePipeline<HttpResponseMessage>.Empty;
            return await pipeline.ExecuteAsync(static (ctx, state) => new ValueTask<HttpResponseMessage>(state.Self.SendFollowingRedirectsAsync(state.Spec, ctx.CancellationToken)), context, (Self: this, Spec: spec)).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            var attempts = spec.Retry && _options.MaxAttempts > 1 && !IsPermanent(ex, HostRules.IsLoopback(spec.Uri.Host)) ? $" (after {_options.MaxAttempts} attempts)" : string.Empty;
            // A host that never answered is unreachable; one whose connection broke mid-request was reached.
            var verb = ex.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError
                ? "cannot reach" : "the connection broke off with";
            throw new RegistryException($"{spec.What}: {verb} {Target(spec)}{attempts}: {Describe(ex, spec.Uri)}", null, ex);
        }
        catch (TimeoutException ex)
        {
            throw new RegistryException($"{spec.What}: {Target(spec)} sent nothing for {_options.IdleTimeout.TotalSeconds:0} s{(spec.Retry && _options.MaxAttempts > 1 ? $" (after {_options.MaxAttempts} attempts)" : string.Empty)}; it is stalled or unreachable (IdleTimeout sets the limit)", null, ex);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>A one-line description of a transport failure, naming a refused certificate when that was the cause.</summary>
    public string Describe(HttpRequestException exception, Uri uri)
    {
        if (uri.Scheme == Uri.UriSchemeHttps && exception.HttpRequestError == HttpRequestError.SecureConnectionError && !_handlers.PresentedCertificate(uri) && CertificateFailure(uri) is null)
        {
            return $"{uri.Authority} does not speak TLS; if it is a plain-HTTP registry, say so (PlainHttp, or Insecure)";
        }

        if (CertificateFailure(uri) is { } reason)
        {
            return $"TLS: {uri.Authority} is not trusted: {reason}; add its CA as /etc/docker/certs.d/{uri.Authority}/ca.crt or in a certificate directory (CertDirectory), or skip verification (TlsVerify false)";
        }

        if (uri.Scheme == Uri.UriSchemeHttps && _handlers.PresentedCertificate(uri) && _handlers.HasClientCertificate(uri) && TlsAlert(exception) is { } alert)
        {
            return $"TLS: {uri.Authority} refused the client certificate Ferry presented (from its certs.d directory or CertDirectory): it is not signed by a CA the registry trusts, has expired, or does not match its key ({alert})";
        }

        if (uri.Scheme == Uri.UriSchemeHttps && _handlers.PresentedCertificate(uri) && !_handlers.HasClientCertificate(uri))
        {
            return $"TLS: {uri.Authority} closed the connection after its certificate was accepted; it may require a client certificate (client.cert + client.key in /etc/docker/certs.d/{uri.Authority}/ or in a certificate directory, CertDirectory)";
        }

        var inner = exception.InnerException is { } cause && !exception.Message.Contains(cause.Message, StringComparison.Ordinal) ? $" ({cause.Message})" : string.Empty;
        return exception.Message + inner;
    }

    public void Dispose()
    {
        _handlers.Dispose();
        UploadLimit?.Dispose();
        DownloadLimit?.Dispose();
    }

    private bool ShouldRetry(Outcome<HttpResponseMessage> outcome, CancellationToken cancellationToken, bool loopback)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return false;
        }

        if (outcome.Exception is HttpRequestException http)
        {
            // A refused certificate, a TLS configuration error or a name that does not exist does not heal by waiting.
            return http.HttpRequestError != HttpRequestError.SecureConnectionError && !IsPermanent(http, loopback);
        }

        if (outcome.Exception is not null)
        {
            return outcome.Exception is IOException or TimeoutException;
        }

        var response = outcome.Result!;
        var status = (int)response.StatusCode;
        if (status is not (408 or 429 or 500 or 502 or 503 or 504))
        {
            return false;
        }

        // A registry that asks for a longer pause than the cap fails now, saying when to come back.
        return RetryAfter(response) is not { } wait || wait <= _options.MaxRetryAfter;
    }

    /// <summary>The TLS alert the peer sent (OpenSSL's <c>tlsv1 alert unknown ca</c>), found in the exception's causes.</summary>
    private static string? TlsAlert(Exception exception)
    {
        for (Exception? cause = exception; cause is not null; cause = cause.InnerException)
        {
            var at = cause.Message.IndexOf(" alert ", StringComparison.Ordinal);
            if (at >= 0)
            {
                var start = cause.Message.LastIndexOf(':', at) + 1;
                return cause.Message[start..].Trim();
            }
        }

        return null;
    }

    /// <summary>
    /// Failures that waiting cannot heal: a name the DNS says does not exist (NXDOMAIN; a temporary resolver failure is
    /// retried), and a refused connection on this machine (a mistyped port; a remote refusal may be a restart, retried).
    /// </summary>
    private static bool IsPermanent(HttpRequestException exception, bool loopback) =>
        (exception.HttpRequestError == HttpRequestError.NameResolutionError && exception.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.HostNotFound }) ||
        (loopback && exception.HttpRequestError == HttpRequestError.ConnectionError && exception.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused });

    private static string Target(HttpRequestSpec spec) =>
        string.Equals(spec.Uri.Authority, spec.Registry, StringComparison.OrdinalIgnoreCase) ? "registry " + spec.Registry : spec.Uri.Authority;

    /// <summary>The <c>Retry-After</c> delay of a response (seconds or an HTTP date), if any.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    private async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HttpRequestSpec spec, CancellationToken cancellationToken)
    {
        var uri = spec.Uri;
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(spec.Method, uri);
            request.Headers.UserAgent.TryParseAdd(_options.UserAgent);
            foreach (var type in spec.Accept ?? [])
            {
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
            }

            if (spec.Authorization is not null && HostRules.SameOrigin(uri, spec.Uri))
            {
                // Values from servers and files (tokens, helper output) never reach a header with a CR or LF in them.
                if (Redaction.HasControlCharacters(spec.Authorization))
                {
                    throw new AuthenticationFailedException($"{spec.What}: the credentials or token for {spec.Registry} contain control characters; refused");
                }

                request.Headers.TryAddWithoutValidation("Authorization", spec.Authorization);
            }

            if (spec.RangeFrom is { } from)
            {
                request.Headers.Range = new RangeHeaderValue(from, null);
            }

            Log.Request(_logger, spec.Method.Method, Redaction.Uri(uri));
            HttpResponseMessage response;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                // The idle timer measures silence, not duration: every piece of the body that goes out starts it again,
                // so a large upload on a slow link runs as long as bytes keep flowing.
                idle.CancelAfter(_options.IdleTimeout);
                if (spec.Content?.Invoke() is { } body)
                {
                    var timeout = _options.IdleTimeout;
                    var sent = spec.Sent;
                    request.Content = new Content.ObservedContent(
                        body,
                        n =>
                        {
                            try
                            {
                                idle.CancelAfter(timeout);
                            }
                            catch (ObjectDisposedException)
                            {
                                // The answer came before the whole body went out; the request is over.
                            }

                            sent?.Invoke(n);
                        },
                        UploadLimit);
                }

                try
                {
                    response = await _handlers.For(uri).SendAsync(request, idle.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"{uri.Authority} sent no answer within {_options.IdleTimeout.TotalSeconds:0} s");
                }
                catch (HttpRequestException) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    throw new TimeoutException($"{uri.Authority} took no data for {_options.IdleTimeout.TotalSeconds:0} s while the request was being sent");
                }
            }

            Log.Response(_logger, (int)response.StatusCode, spec.Method.Method, Redaction.Uri(uri));
            if (!IsRedirect(response.StatusCode))
            {
                return response;
            }

            var location = response.Headers.Location;
            response.Dispose();
            if (location is null)
            {
                throw new RegistryException($"{spec.What}: {uri.Authority} answered a redirect without a Location", (int)response.StatusCode);
            }

            var next = location.IsAbsoluteUri ? location : new Uri(uri, location);
            if (hop + 1 >= MaxRedirects)
            {
                throw new RegistryException($"{spec.What}: more than {MaxRedirects} redirects");
            }

            if (spec.Content is not null && response.StatusCode is not (HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect))
            {
                throw new RegistryException($"{spec.What}: {uri.Authority} redirected a {spec.Method} request to {Redaction.Uri(next)}; refused");
            }

            var refusal = next.Scheme is not ("http" or "https") ? $"a redirect to a {next.Scheme}: URL"
                : uri.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp ? $"a redirect from https to plain http ({Redaction.Uri(next)})"
                : await HostRules.IsForbiddenTargetAsync(next.Host, spec.AllowLocalRedirects, cancellationToken).ConfigureAwait(false) ? $"a redirect to the internal address {next.Host}"
                : spec.ValidateRedirect is { } validate ? await validate(next, cancellationToken).ConfigureAwait(false)
                : null;
            if (refusal is not null)
            {
                throw new RegistryException($"{spec.What}: refused {refusal}");
            }

            Log.Redirected(_logger, Redaction.Uri(uri), Redaction.Uri(next));
            uri = next;
        }
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
