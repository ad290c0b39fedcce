using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ferry.Server;

/// <summary>
/// <c>ferry serve</c>: archives served as a read-only registry — the OCI distribution-spec pull API (<c>/v2/</c>,
/// manifests by tag and digest, blobs with <c>Range</c>, <c>tags/list</c>, <c>_catalog</c>) on Kestrel, HTTP/1.1,
/// or HTTP/1.1 and HTTP/2 over TLS. Pushes are refused (<c>UNSUPPORTED</c>). Blobs are read from the archive at their
/// offsets; a whole blob is verified as it goes out (a mismatch aborts the response, so the client never takes it).
/// </summary>
public static partial class RegistryServer
{
    /// <summary>Serves until <paramref name="cancellationToken"/> fires (Ctrl-C, SIGTERM), then lets running requests finish.</summary>
    /// <param name="store">What to serve.</param>
    /// <param name="options">How.</param>
    /// <param name="started">Called with the address once it listens.</param>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <returns>A task that completes when the server stopped.</returns>
    public static async Task RunAsync(BundleStore store, ServeOptions options, Action<Uri>? started, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        var endpoint = ParseListen(options.Listen);
        X509Certificate2? certificate = null;
        if (options.TlsCertificate is not null || options.TlsKey is not null)
        {
            if (options.TlsCertificate is null || options.TlsKey is null)
            {
                throw new InvalidInputException("TLS needs both a certificate and its key (TlsCertificate, TlsKey)");
            }

            try
            {
                certificate = X509Certificate2.CreateFromPemFile(options.TlsCertificate, options.TlsKey);
            }
            catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
            {
                throw new InvalidInputException($"cannot use the TLS certificate {options.TlsCertificate} with key {options.TlsKey}: {ex.Message}", ex);
            }
        }

        var users = options.Htpasswd is { } htpasswd ? Htpasswd.Load(htpasswd) : null;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Without a total cap there is nothing to lock others out of (the timeouts below still end idle clients), and a
        // whole cluster behind one NAT address must not be throttled by default.
        var perClient = options.MaxConnectionsPerClient ?? (options.MaxConnections is { } total ? (int)Math.Max(1, Math.Min(int.MaxValue, (total + 1) / 2)) : int.MaxValue);
        var refusals = options.AccessLog ?? Console.Error;
        var gate = new ConnectionGate(options.MaxConnections, perClient, options.LogFormat == AccessLogFormat.None ? null : line => refusals.WriteLine(line));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // Limits against clients that hold connections without using them (slowloris): a request head must arrive
            // within 10 s, an idle keep-alive connection closes after 30 s, and a client that reads or sends slower
            // than 240 B/s (after 5 s of grace) is dropped. Connection counts are the gate's: it answers 503.
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            kestrel.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(30);
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(240, TimeSpan.FromSeconds(5));
            // Under --limit-rate the server itself may send slower than that to each of many clients: no minimum then.
            kestrel.Limits.MinResponseDataRate = options.MaxBytesPerSecond is null ? new MinDataRate(240, TimeSpan.FromSeconds(5)) : null;
            kestrel.Limits.Http2.MaxStreamsPerConnection = 32;
            kestrel.Listen(endpoint, listen =>
            {
                if (certificate is not null)
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate, https => https.HandshakeTimeout = TimeSpan.FromSeconds(10));
                }
                else
                {
                    listen.Protocols = HttpProtocols.Http1;
                }

                listen.Use(gate.Wrap);
            });
        });
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(30));

        await using var app = builder.Build();
        var log = new AccessLog(options.LogFormat, options.AccessLog ?? Console.Error);
        using var limit = options.MaxBytesPerSecond is { } rate ? new Content.BandwidthLimit(rate) : null;
        var handler = new PullApi(store, users, limit);
        app.Run(async context =>
        {
            var clock = Stopwatch.StartNew();
            try
            {
                await handler.HandleAsync(context).ConfigureAwait(false);
            }
            finally
            {
                log.Write(context, clock.Elapsed);
            }
        });

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var scheme = certificate is null ? "http" : "https";
        var port = app.Urls.Select(u => new Uri(u.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal))).FirstOrDefault()?.Port ?? endpoint.Port;
        started?.Invoke(new Uri($"{scheme}://{(endpoint.Address.Equals(IPAddress.Any) ? "0.0.0.0" : endpoint.Address.ToString())}:{port}"));
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop: drain below.
        }

        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Parses <c>HOST:PORT</c>, <c>[IPv6]:PORT</c> or <c>:PORT</c> (all addresses).</summary>
    /// <param name="listen">The text.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="InvalidInputException">It is not one.</exception>
    public static IPEndPoint ParseListen(string listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var colon = listen.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(listen.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            throw new InvalidInputException($"listen address {listen}: not HOST:PORT (127.0.0.1:5000, 0.0.0.0:5443, [::]:5000)");
        }

        var host = listen[..colon].Trim('[', ']');
        if (host.Length == 0)
        {
            return new IPEndPoint(IPAddress.Any, port);
        }

        if (host == "localhost")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        return IPAddress.TryParse(host, out var address)
            ? new IPEndPoint(address, port)
            : throw new InvalidInputException($"listen address {listen}: {host} is not an IP address (use 0.0.0.0 for every interface)");
    }

    /// <summary>The pull side of the distribution API over a <see cref="BundleStore"/>.</summary>
    private sealed partial class PullApi(BundleStore store, Htpasswd? users, Content.BandwidthLimit? limit)
    {
        private const int DefaultPage = 1000;

        /// <summary>
        /// The copy buffer per blob response (pooled). 256 KiB: 50 concurrent pulls peaked at 205 MB RSS with 1 MiB
        /// buffers (docs/benchmarks.md); Kestrel's own response pipe holds 64 KiB at most anyway.
        /// </summary>
        private const int CopyBuffer = 256 * 1024;

        public async Task HandleAsync(HttpContext context)
        {
            var request = context.Request;
            var response = context.Response;
            response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
            var path = request.Path.Value ?? "/";
            if (!path.StartsWith("/v2", StringComparison.Ordinal))
            {
                await ErrorAsync(context, 404, "NOT_FOUND", "not a registry API path").ConfigureAwait(false);
                return;
            }

            if (users is not null)
            {
                if (users.Check(request.Headers.Authorization) is not { } user)
                {
                    response.Headers.WWWAuthenticate = "Basic realm=\"ferry\"";
                    await ErrorAsync(context, 401, "UNAUTHORIZED", "authentication required").ConfigureAwait(false);
                    return;
                }

                context.Items["user"] = user;
            }

            var read = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
            if (!read)
            {
                await ErrorAsync(context, 405, "UNSUPPORTED", "this registry is read-only: it serves archives (ferry serve)").ConfigureAwait(false);
                return;
            }

            if (path is "/v2" or "/v2/")
            {
                await JsonAsync(context, w => { w.WriteStartObject(); w.WriteEndObject(); }).ConfigureAwait(false);
                return;
            }

            if (path == "/v2/_catalog")
            {
                await PageAsync(context, "/v2/_catalog", "repositories", null, store.Repositories).ConfigureAwait(false);
                return;
            }

            var match = ApiPath().Match(path);
            if (!match.Success)
            {
                await ErrorAsync(context, 404, "NOT_FOUND", "not a registry API path").ConfigureAwait(false);
                return;
            }

            var repository = match.Groups["name"].Value;
            var kind = match.Groups["kind"].Value;
            var reference = match.Groups["reference"].Value;
            if (!store.HasRepository(repository))
            {
                await ErrorAsync(context, 404, "NAME_UNKNOWN", $"repository {repository} is not in the served archives").ConfigureAwait(false);
                return;
            }

            switch (kind)
            {
                case "tags" when reference == "list":
                    await PageAsync(context, $"/v2/{repository}/tags/list", "tags", repository, store.TagsOf(repository)!).ConfigureAwait(false);
                    break;
                case "manifests":
                    await ManifestAsync(context, repository, reference).ConfigureAwait(false);
                    break;
                case "blobs" when Digest.TryParse(reference, out var digest):
                    await BlobAsync(context, repository, digest).ConfigureAwait(false);
                    break;
                case "referrers" when Digest.TryParse(reference, out var subject):
                    await ReferrersAsync(context, repository, subject).ConfigureAwait(false);
                    break;
                case "blobs" or "referrers":
                    await ErrorAsync(context, 400, "DIGEST_INVALID", $"{reference} is not a digest").ConfigureAwait(false);
                    break;
                default:
                    await ErrorAsync(context, 404, "NOT_FOUND", "not a registry API path").ConfigureAwait(false);
                    break;
            }
        }

        /// <summary>
        /// The OCI 1.1 referrers API: an image index of the artifacts whose <c>subject</c> is the manifest (empty, not
        /// 404, when there are none), filtered by <c>?artifactType=</c> with <c>OCI-Filters-Applied</c> saying so.
        /// </summary>
        private async Task ReferrersAsync(HttpContext context, string repository, Digest subject)
        {
            var entries = store.ReferrersOf(repository, subject);
            if (context.Request.Query["artifactType"].FirstOrDefault() is { } type)
            {
                entries = entries.Where(e => e.ArtifactType == type).ToList();
                context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
            }

            var body = Ferry.Referrers.ReferrersIndex.Build(entries);
            context.Response.ContentType = MediaTypes.OciIndex;
            context.Response.ContentLength = body.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
            }
        }

        private static async Task ErrorAsync(HttpContext context, int status, string code, string message)
        {
            context.Response.StatusCode = status;
            await JsonAsync(context, w =>
            {
                w.WriteStartObject();
                w.WriteStartArray("errors");
                w.WriteStartObject();
                w.WriteString("code", code);
                w.WriteString("message", message);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }).ConfigureAwait(false);
        }

        private static async Task JsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
        {
            var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                write(writer);
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength = buffer.Length;
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted).ConfigureAwait(false);
            }
        }

        /// <summary>A page of a sorted list (<c>n</c>, <c>last</c>), with a <c>Link</c> to the next page when there is one.</summary>
        private static async Task PageAsync(HttpContext context, string path, string field, string? repository, IReadOnlyList<string> all)
        {
            var query = context.Request.Query;
            var n = DefaultPage;
            if (query.TryGetValue("n", out var nText) && (!int.TryParse(nText, NumberStyles.None, CultureInfo.InvariantCulture, out n) || n < 0))
            {
                await ErrorAsync(context, 400, "PAGINATION_NUMBER_INVALID", "n is not a number").ConfigureAwait(false);
                return;
            }

            var last = query.TryGetValue("last", out var lastText) ? lastText.ToString() : null;
            var after = last is null ? all : [.. all.Where(x => string.CompareOrdinal(x, last) > 0)];
            var page = after.Take(n).ToList();
            if (page.Count > 0 && page.Count < after.Count)
            {
                context.Response.Headers.Link = $"<{path}?n={n}&last={Uri.EscapeDataString(page[^1])}>; rel=\"next\"";
            }

            await JsonAsync(context, w =>
            {
                w.WriteStartObject();
                if (repository is not null)
                {
                    w.WriteString("name", repository);
                }

                w.WriteStartArray(field);
                foreach (var item in page)
                {
                    w.WriteStringValue(item);
                }

                w.WriteEndArray();
                w.WriteEndObject();
            }).ConfigureAwait(false);
        }

        private async Task ManifestAsync(HttpContext context, string repository, string reference)
        {
            var manifest = await store.FindManifestAsync(repository, reference, context.RequestAborted).ConfigureAwait(false);
            if (manifest is null)
            {
                await ErrorAsync(context, 404, "MANIFEST_UNKNOWN", $"{repository}:{reference} is not in the served archives").ConfigureAwait(false);
                return;
            }

            if (!Accepts(context.Request, manifest.Descriptor.MediaType))
            {
                await ErrorAsync(context, 404, "MANIFEST_UNKNOWN", $"{repository}:{reference} is a {manifest.Descriptor.MediaType}, which the request does not accept").ConfigureAwait(false);
                return;
            }

            var response = context.Response;
            response.ContentType = manifest.Descriptor.MediaType;
            response.ContentLength = manifest.Content.Length;
            response.Headers["Docker-Content-Digest"] = manifest.Descriptor.Digest.ToString();
            response.Headers.ETag = $"\"{manifest.Descriptor.Digest}\"";
            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await response.Body.WriteAsync(manifest.Content, context.RequestAborted).ConfigureAwait(false);
            }
        }

        /// <summary>An <c>Accept</c> header that lists media types must list this one (or a wildcard); none accepts all.</summary>
        private static bool Accepts(HttpRequest request, string mediaType)
        {
            var accepted = request.Headers.Accept.SelectMany(v => (v ?? string.Empty).Split(',')).Select(v => v.Split(';')[0].Trim()).Where(v => v.Length > 0).ToList();
            return accepted.Count == 0 || accepted.Any(a => a is "*/*" or "application/*" || string.Equals(a, mediaType, StringComparison.OrdinalIgnoreCase));
        }

        private async Task BlobAsync(HttpContext context, string repository, Digest digest)
        {
            if (store.FindBlob(repository, digest) is not { } descriptor)
            {
                await ErrorAsync(context, 404, "BLOB_UNKNOWN", $"blob {digest} is not in the served archives").ConfigureAwait(false);
                return;
            }

            var response = context.Response;
            response.ContentType = "application/octet-stream";
            response.Headers["Docker-Content-Digest"] = digest.ToString();
            response.Headers.AcceptRanges = "bytes";
            response.Headers.ETag = $"\"{digest}\"";
            var size = descriptor.Size;
            var range = context.Request.Headers.Range.ToString();
            long offset = 0;
            var length = size;
            if (range.Length > 0)
            {
                if (!TryParseRange(range, size, out offset, out length))
                {
                    response.Headers.ContentRange = $"bytes */{size}";
                    await ErrorAsync(context, 416, "BLOB_UNKNOWN", $"range {range} is not within the blob's {size} bytes").ConfigureAwait(false);
                    return;
                }

                response.StatusCode = 206;
                response.Headers.ContentRange = $"bytes {offset}-{offset + length - 1}/{size}";
            }

            response.ContentLength = length;
            if (HttpMethods.IsHead(context.Request.Method))
            {
                return;
            }

            await using var body = range.Length > 0 ? store.OpenBlobRange(descriptor, offset, length) : store.OpenBlob(descriptor);
            try
            {
                await CopyHoldingTheLastChunkAsync(body, response.Body, limit, context.RequestAborted).ConfigureAwait(false);
            }
            catch (DigestMismatchException)
            {
                // The archive's bytes are not the blob: end the connection mid-body so the client cannot take them.
                context.Abort();
                throw;
            }
        }

        /// <summary>
        /// Copies a blob, writing each chunk only once the next read succeeded: the verifying stream checks the digest
        /// on its last read, so the last bytes go out only after the check — a client never receives all of
        /// <c>Content-Length</c> for a blob whose bytes are wrong.
        /// </summary>
        private static async Task CopyHoldingTheLastChunkAsync(Stream source, Stream destination, Content.BandwidthLimit? limit, CancellationToken cancellationToken)
        {
            var pool = System.Buffers.ArrayPool<byte>.Shared;
            var held = pool.Rent(CopyBuffer);
            var next = pool.Rent(CopyBuffer);
            try
            {
                var heldLength = await source.ReadAsync(held.AsMemory(0, CopyBuffer), cancellationToken).ConfigureAwait(false);
                while (heldLength > 0)
                {
                    var n = await source.ReadAsync(next.AsMemory(0, CopyBuffer), cancellationToken).ConfigureAwait(false);
                    if (limit is not null)
                    {
                        await limit.TakeAsync(heldLength, cancellationToken).ConfigureAwait(false);
                    }

                    await destination.WriteAsync(held.AsMemory(0, heldLength), cancellationToken).ConfigureAwait(false);
                    (held, next, heldLength) = (next, held, n);
                }
            }
            finally
            {
                pool.Return(held);
                pool.Return(next);
            }
        }

        /// <summary>One range, <c>bytes=A-B</c>, <c>bytes=A-</c> or <c>bytes=-N</c>, within a blob of <paramref name="size"/> bytes.</summary>
        internal static bool TryParseRange(string header, long size, out long offset, out long length)
        {
            offset = 0;
            length = 0;
            var match = RangeHeader().Match(header.Trim());
            if (!match.Success || size == 0)
            {
                return false;
            }

            var hasFirst = long.TryParse(match.Groups["first"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var first);
            var hasLast = long.TryParse(match.Groups["last"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var last);
            if (!hasFirst && hasLast)
            {
                // A suffix: the last N bytes.
                length = Math.Min(last, size);
                offset = size - length;
                return length > 0;
            }

            if (!hasFirst || first >= size || (hasLast && last < first))
            {
                return false;
            }

            offset = first;
            length = (hasLast ? Math.Min(last, size - 1) : size - 1) - first + 1;
            return true;
        }

        [GeneratedRegex(@"^/v2/(?<name>[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)/(?<kind>manifests|blobs|tags|referrers)/(?<reference>[A-Za-z0-9_.:+=-]{1,200})$")]
        private static partial Regex ApiPath();

        [GeneratedRegex(@"^bytes=(?<first>\d*)-(?<last>\d*)$")]
        private static partial Regex RangeHeader();
    }

    /// <summary>One line per request, plain or JSON; never a header, so never a secret.</summary>
    private sealed class AccessLog(AccessLogFormat format, TextWriter output)
    {
        private readonly Lock _gate = new();

        public void Write(HttpContext context, TimeSpan elapsed)
        {
            if (format == AccessLogFormat.None)
            {
                return;
            }

            var request = context.Request;
            var remote = context.Connection.RemoteIpAddress?.ToString() ?? "-";
            var user = context.Items.TryGetValue("user", out var u) ? u as string : null;
            var status = context.Response.StatusCode;
            var bytes = context.Response.ContentLength ?? 0;
            // The path as it came on the wire (percent-encoded): no control character or space reaches the log line.
            var path = request.Path.ToUriComponent();
            string line;
            if (format == AccessLogFormat.Json)
            {
                var buffer = new MemoryStream();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    writer.WriteStartObject();
                    writer.WriteString("time", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                    writer.WriteString("remote", remote);
                    writer.WriteString("user", user);
                    writer.WriteString("method", request.Method);
                    writer.WriteString("path", path);
                    writer.WriteString("protocol", request.Protocol);
                    writer.WriteNumber("status", status);
                    writer.WriteNumber("bytes", bytes);
                    writer.WriteNumber("ms", Math.Round(elapsed.TotalMilliseconds, 1));
                    writer.WriteEndObject();
                }

                line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            }
            else
            {
                line = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:yyyy-MM-ddTHH:mm:ss.fffZ} {remote} {user ?? "-"} {request.Method} {path} {request.Protocol} {status} {bytes} {elapsed.TotalMilliseconds:F1}ms");
            }

            lock (_gate)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }
    }
}
