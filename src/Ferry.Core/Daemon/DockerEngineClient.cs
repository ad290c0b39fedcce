using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Daemon;

/// <summary>An image as the daemon reports it.</summary>
/// <param name="Id">Its ID: the digest of its config.</param>
/// <param name="RepoTags">Its tags.</param>
public sealed record DaemonImage(string Id, IReadOnlyList<string> RepoTags)
{
    /// <summary>The platform the Engine holds the image for (<c>Os</c>, <c>Architecture</c>, <c>Variant</c> of its inspect answer); <see langword="null"/> when it does not say.</summary>
    public References.Platform? Platform { get; init; }
}

/// <summary>What the Engine reports about itself.</summary>
/// <param name="Os">Its OS (<c>linux</c>).</param>
/// <param name="Architecture">Its architecture in Go's terms (<c>amd64</c>, <c>arm64</c>).</param>
/// <param name="Version">The Engine version.</param>
/// <param name="ApiVersion">The API version it speaks.</param>
public sealed record EngineVersion(string Os, string Architecture, string Version, string ApiVersion);

/// <summary>
/// A minimal Docker Engine API client over a unix socket, TCP (optionally TLS with client certificates) or SSH
/// (<c>ssh HOST docker system dial-stdio</c>, as the docker CLI does): API version negotiation, version, image
/// inspection, streaming export (<c>GET /images/get</c>) and load (<c>POST /images/load</c>), with errors the
/// daemon reports inside a 200 response surfaced.
/// </summary>
public sealed class DockerEngineClient : IDisposable
{
    private const string MaxApiVersion = "1.41";
    private readonly HttpClient _http;
    private readonly Uri _base;
    private string _apiVersion = "v" + MaxApiVersion;
    private Task? _negotiation;

    /// <summary>Creates a client for a daemon address (no TLS).</summary>
    /// <param name="host">A DOCKER_HOST value: <c>unix:///path</c>, <c>tcp://host:port</c> or <c>ssh://[user@]host[:port]</c>.</param>
    public DockerEngineClient(string host)
        : this(new DockerEndpoint(host, "--docker-host"))
    {
    }

    /// <summary>Creates a client for an endpoint.</summary>
    /// <param name="endpoint">Where the daemon is and how to reach it.</param>
    /// <exception cref="InvalidInputException">An address Ferry cannot use, or unreadable TLS files.</exception>
    public DockerEngineClient(DockerEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        var host = endpoint.Host;
        if (host.StartsWith("unix://", StringComparison.Ordinal))
        {
            var socket = host["unix://".Length..];
            _http = new HttpClient(new SocketsHttpHandler { ConnectCallback = (_, token) => ConnectUnixAsync(socket, token) }) { Timeout = Timeout.InfiniteTimeSpan };
            _base = new Uri("http://docker/");
        }
        else if (host.StartsWith("tcp://", StringComparison.Ordinal) && Uri.TryCreate((endpoint.Tls ? "https://" : "http://") + host["tcp://".Length..], UriKind.Absolute, out var tcp))
        {
            _http = new HttpClient(endpoint.Tls ? DaemonTls.CreateHandler(endpoint) : new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
            _base = tcp;
        }
        else if (host.StartsWith("ssh://", StringComparison.Ordinal) && Uri.TryCreate(host, UriKind.Absolute, out var ssh))
        {
            _http = new HttpClient(new SocketsHttpHandler { ConnectCallback = (_, token) => SshDialer.ConnectAsync(ssh, token), PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) }) { Timeout = Timeout.InfiniteTimeSpan };
            _base = new Uri("http://docker/");
        }
        else
        {
            throw new InvalidInputException($"docker host '{Registry.Transport.Redaction.Address(host)}' (from {endpoint.Source}) is not unix://PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]");
        }
    }

    /// <summary>The endpoint.</summary>
    public DockerEndpoint Endpoint { get; }

    /// <summary>The daemon address.</summary>
    public string Host => Registry.Transport.Redaction.Address(Endpoint.Host);

    /// <summary>Whether the Engine runs on this machine (a unix socket): bytes sent to it cost no network.</summary>
    internal bool IsOnThisMachine => UnixSocket is not null;

    private string? UnixSocket => Endpoint.Host.StartsWith("unix://", StringComparison.Ordinal) ? Endpoint.Host["unix://".Length..] : null;

    /// <summary>How many small requests (image inspections) to have in flight at once: one over SSH, where every connection is an ssh process.</summary>
    internal int ConcurrentRequests => Endpoint.Host.StartsWith("ssh://", StringComparison.Ordinal) ? 1 : 8;

    /// <summary>Asks the daemon what it is.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Its version information.</returns>
    /// <exception cref="DaemonException">The daemon cannot be reached or answered an error.</exception>
    public async Task<EngineVersion> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"{_apiVersion}/version")), "version", cancellationToken).ConfigureAwait(false);
        var json = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(json);
        string Field(string name) => document.RootElement.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? string.Empty : string.Empty;
        return new EngineVersion(Field("Os"), Field("Arch"), Field("Version"), Field("ApiVersion"));
    }

    /// <summary>
    /// Streams a docker-archive into <c>POST /images/load</c> and follows the daemon's answer. If writing fails
    /// or is cancelled, the request is aborted and the daemon loads nothing of it.
    /// </summary>
    /// <param name="writeArchive">Writes the tar to the request body.</param>
    /// <param name="progress">Receives the daemon's progress lines (e.g. <c>Loaded image: app:1</c>).</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>The lines the daemon reported.</returns>
    /// <exception cref="DaemonException">The daemon reported an error (even inside a 200 response) or could not be reached.</exception>
    public async Task<IReadOnlyList<string>> LoadAsync(Func<Stream, CancellationToken, Task> writeArchive, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writeArchive);
        await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"{_apiVersion}/images/load?quiet=0")) { Content = new WriterContent(writeArchive, cancellationToken) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-tar");
        using var response = await SendAsync(request, "load", cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(body);
        var lines = new List<string>();
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.TryGetProperty("errorDetail", out _) || root.TryGetProperty("error", out _))
            {
                throw new DaemonException($"the Docker daemon ({Host}) refused the load: {DaemonErrors.MessageOf(line)}");
            }

            if (root.TryGetProperty("stream", out var stream) && stream.GetString() is { } text && text.Trim().Length > 0)
            {
                lines.Add(text.Trim());
                progress?.Report(text.Trim());
            }
        }

        return lines;
    }

    /// <summary>What the daemon knows of an image.</summary>
    /// <param name="name">A name:tag, name@digest or image ID (full or short).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Its ID (the config digest) and tags.</returns>
    /// <exception cref="ImageNotFoundException">The daemon has no such image.</exception>
    public async Task<DaemonImage> InspectImageAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        int status;
        byte[] body;
        if (UnixSocket is { } socket)
        {
            (status, _, body) = await RawAsync(socket, $"/{_apiVersion}/images/{Uri.EscapeDataString(name)}/json", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"{_apiVersion}/images/{Uri.EscapeDataString(name)}/json"));
            try
            {
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                status = (int)response.StatusCode;
                body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException ex)
            {
                throw Unreachable(ex);
            }
        }

        if (status == 404)
        {
            throw new ImageNotFoundException($"{name}: no such image in the Docker daemon ({Host})");
        }

        if (status is < 200 or > 299)
        {
            throw new DaemonException($"the Docker daemon ({Host}) answered {status} for image {name}: {DaemonErrors.MessageOf(System.Text.Encoding.UTF8.GetString(body))}");
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var id = root.GetProperty("Id").GetString() ?? string.Empty;
        var tags = root.TryGetProperty("RepoTags", out var t) && t.ValueKind == JsonValueKind.Array ? t.EnumerateArray().Select(x => x.GetString()).OfType<string>().ToList() : [];
        string? Text(string property) => root.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
        var platform = Text("Architecture") is { } architecture ? new References.Platform(Text("Os") ?? "linux", architecture, Text("Variant")) : null;
        return new DaemonImage(id, tags) { Platform = platform };
    }

    /// <summary>
    /// The chain IDs of every layer stack the daemon holds (<c>/images/json</c>, then each image's
    /// <c>RootFS.Layers</c>): chainID(L1) = diffID(L1), chainID(L1..Ln) = sha256(chainID(L1..Ln-1) + " " + diffID(Ln)).
    /// </summary>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The set of chain IDs.</returns>
    public async Task<HashSet<string>> GetLayerChainIdsAsync(CancellationToken cancellationToken = default)
    {
        await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        var chains = new HashSet<string>(StringComparer.Ordinal);
        using var list = JsonDocument.Parse(await GetJsonAsync($"/{_apiVersion}/images/json", cancellationToken).ConfigureAwait(false));
        foreach (var image in list.RootElement.EnumerateArray())
        {
            var id = image.GetProperty("Id").GetString()!;
            using var inspect = JsonDocument.Parse(await GetJsonAsync($"/{_apiVersion}/images/{Uri.EscapeDataString(id)}/json", cancellationToken).ConfigureAwait(false));
            if (!inspect.RootElement.TryGetProperty("RootFS", out var rootfs) || !rootfs.TryGetProperty("Layers", out var layers))
            {
                continue;
            }

            string? chain = null;
            foreach (var diffId in layers.EnumerateArray().Select(l => l.GetString()!))
            {
                chain = ChainId(chain, diffId);
                chains.Add(chain);
            }
        }

        return chains;
    }

    /// <summary>The chain ID of a layer on top of <paramref name="parent"/> (<see langword="null"/> for the bottom layer).</summary>
    /// <param name="parent">The parent chain ID.</param>
    /// <param name="diffId">The layer's diff ID.</param>
    /// <returns>The chain ID.</returns>
    public static string ChainId(string? parent, string diffId) =>
        parent is null ? diffId : "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(parent + " " + diffId)));

    private async Task<byte[]> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        if (UnixSocket is { } socket)
        {
            var (status, _, body) = await RawAsync(socket, path, cancellationToken).ConfigureAwait(false);
            return status is >= 200 and < 300 ? body : throw new DaemonException($"the Docker daemon ({Host}) answered {status} to {path}");
        }

        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, path.TrimStart('/'))), path, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Streams <c>GET /images/get?names=…</c> (a docker-archive of the images) into <paramref name="destination"/>.
    /// The daemon may append an error after the tar once it has started sending; the caller checks the tail.
    /// </summary>
    /// <param name="names">The images, as the daemon knows them.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the export.</param>
    /// <returns>A task.</returns>
    public async Task ExportAsync(IEnumerable<string> names, Stream destination, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(destination);
        await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        var query = string.Join('&', names.Select(n => "names=" + Uri.EscapeDataString(n)));
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"{_apiVersion}/images/get?{query}")), "export", cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await body.CopyToAsync(destination, 1 << 20, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new DaemonException($"the Docker daemon ({Host}) export stream broke off: {ex.Message}", ex);
        }
    }

    /// <summary>Runs <c>GET /images/get?names=…</c> and hands the response stream to <paramref name="read"/>.</summary>
    /// <param name="names">The images.</param>
    /// <param name="read">Consumes the stream (a docker-archive, possibly followed by an appended error).</param>
    /// <param name="cancellationToken">Cancels the export.</param>
    /// <returns>A task.</returns>
    public async Task ExportToAsync(IEnumerable<string> names, Func<Stream, CancellationToken, Task> read, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(read);
        await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        var query = string.Join('&', names.Select(n => "names=" + Uri.EscapeDataString(n)));
        if (UnixSocket is { } socketPath)
        {
            try
            {
                await UnixSocketHttp.RunAsync(socketPath, $"/{_apiVersion}/images/get?{query}", Host, read, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new DaemonException($"cannot reach the Docker daemon at {Host} (from {Endpoint.Source}): {SocketReason(ex)}", ex);
            }

            return;
        }

        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"{_apiVersion}/images/get?{query}")), "export", cancellationToken).ConfigureAwait(false);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await read(body, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private static async ValueTask<Stream> ConnectUnixAsync(string path, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// API version negotiation as the docker CLI does it: <c>/_ping</c>'s <c>Api-Version</c>, capped at what Ferry
    /// speaks. Once per client, however many calls start at the same time; a failed ping is tried again by the next call.
    /// </summary>
    /// <summary>Whether the Engine answers (its API version negotiated, once per client); a clear error when it does not.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    internal Task EnsureReachableAsync(CancellationToken cancellationToken) => NegotiateAsync(cancellationToken);

    private Task NegotiateAsync(CancellationToken cancellationToken)
    {
        var negotiation = _negotiation;
        if (negotiation is null || negotiation.IsFaulted || negotiation.IsCanceled)
        {
            negotiation = PingForVersionAsync(cancellationToken);
            Interlocked.Exchange(ref _negotiation, negotiation);
        }

        return negotiation;
    }

    private async Task PingForVersionAsync(CancellationToken cancellationToken)
    {
        string? serverVersion;
        if (UnixSocket is { } socket)
        {
            var (status, headers, _) = await RawAsync(socket, "/_ping", cancellationToken).ConfigureAwait(false);
            if (status != 200)
            {
                throw new DaemonException($"the Docker daemon ({Host}) answered {status} to ping");
            }

            serverVersion = headers.TryGetValue("Api-Version", out var v) ? v : null;
        }
        else
        {
            using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "_ping")), "ping", cancellationToken).ConfigureAwait(false);
            serverVersion = response.Headers.TryGetValues("Api-Version", out var values) ? values.FirstOrDefault() : null;
        }

        if (Version.TryParse(serverVersion, out var server) && server < Version.Parse(MaxApiVersion))
        {
            _apiVersion = "v" + server.ToString(2);
        }
    }

    private async Task<(int Status, Dictionary<string, string> Headers, byte[] Body)> RawAsync(string socket, string path, CancellationToken cancellationToken)
    {
        try
        {
            return await UnixSocketHttp.GetAsync(socket, path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            throw new DaemonException($"cannot reach the Docker daemon at {Host} (from {Endpoint.Source}): {SocketReason(ex)}", ex);
        }
    }

    /// <summary>Why a unix socket could not be reached, in words (a missing socket file reads "Cannot assign requested address" otherwise).</summary>
    private string SocketReason(Exception ex) =>
        UnixSocket is { } path && !File.Exists(path) ? $"{path} does not exist; is the Docker daemon running (and is this its socket)?"
        : ex is SocketException { SocketErrorCode: SocketError.ConnectionRefused } && UnixSocket is { } socket ? $"nothing listens on {socket}; is the Docker daemon running?"
        : ex.Message;

    private DaemonException Unreachable(HttpRequestException ex)
    {
        var tls = ex.HttpRequestError == HttpRequestError.SecureConnectionError
            ? " (TLS handshake failed: check the CA, client certificate and key (CaFile, CertFile, KeyFile) or DOCKER_CERT_PATH)"
            : string.Empty;
        var inner = ex.InnerException is { } cause && !ex.Message.Contains(cause.Message, StringComparison.Ordinal) ? $": {cause.Message}" : string.Empty;
        if (UnixSocket is { } path && !File.Exists(path))
        {
            return new DaemonException($"cannot reach the Docker daemon at {Host} (from {Endpoint.Source}): {SocketReason(ex)}", ex);
        }

        return new DaemonException($"cannot reach the Docker daemon at {Host} (from {Endpoint.Source}){tls}: {ex.Message}{inner}", ex);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var message = text;
                try
                {
                    using var document = JsonDocument.Parse(text);
                    message = document.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? text : text;
                }
                catch (JsonException)
                {
                }

                throw new DaemonException($"the Docker daemon ({Host}) answered {(int)response.StatusCode} to {what}: {message.Trim()}");
            }
        }

        return response;
    }

    /// <summary>A request body produced by a writer, streamed (chunked) as it is written.</summary>
    private sealed class WriterContent(Func<Stream, CancellationToken, Task> write, CancellationToken cancellationToken) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => write(stream, cancellationToken);

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken token) => write(stream, token);

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
