using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Daemon;

/// <summary>What the Engine reports about itself.</summary>
/// <param name="Os">Its OS (<c>linux</c>).</param>
/// <param name="Architecture">Its architecture in Go's terms (<c>amd64</c>, <c>arm64</c>).</param>
/// <param name="Version">The Engine version.</param>
/// <param name="ApiVersion">The API version it speaks.</param>
public sealed record EngineVersion(string Os, string Architecture, string Version, string ApiVersion);

/// <summary>
/// A minimal Docker Engine API client over a unix socket (<c>unix:///var/run/docker.sock</c>) or plain TCP
/// (<c>tcp://host:2375</c>): version, and streaming <c>POST /images/load</c> with the daemon's progress and
/// errors (which it reports inside a 200 response) surfaced.
/// </summary>
public sealed class DockerEngineClient : IDisposable
{
    private const string ApiVersion = "v1.41";
    private readonly HttpClient _http;
    private readonly Uri _base;

    /// <summary>Creates a client for a daemon address.</summary>
    /// <param name="host">A DOCKER_HOST value: <c>unix:///path</c> or <c>tcp://host:port</c>.</param>
    /// <exception cref="InvalidInputException">An address Ferry cannot use.</exception>
    public DockerEngineClient(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        Host = host;
        if (host.StartsWith("unix://", StringComparison.Ordinal))
        {
            var socket = host["unix://".Length..];
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, token) =>
                {
                    var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await s.ConnectAsync(new UnixDomainSocketEndPoint(socket), token).ConfigureAwait(false);
                        return new NetworkStream(s, ownsSocket: true);
                    }
                    catch
                    {
                        s.Dispose();
                        throw;
                    }
                },
            };
            _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            _base = new Uri("http://docker/");
        }
        else if (host.StartsWith("tcp://", StringComparison.Ordinal) && Uri.TryCreate("http://" + host["tcp://".Length..], UriKind.Absolute, out var tcp))
        {
            _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            _base = tcp;
        }
        else
        {
            throw new InvalidInputException($"docker host '{host}' is not unix://PATH or tcp://HOST:PORT");
        }
    }

    /// <summary>The daemon address.</summary>
    public string Host { get; }

    /// <summary>The daemon address from <c>DOCKER_HOST</c>, else the default socket.</summary>
    /// <returns>The address.</returns>
    public static string DefaultHost() => Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } host ? host : "unix:///var/run/docker.sock";

    /// <summary>Asks the daemon what it is.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Its version information.</returns>
    /// <exception cref="DaemonException">The daemon cannot be reached or answered an error.</exception>
    public async Task<EngineVersion> GetVersionAsync(CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "version")), "version", cancellationToken).ConfigureAwait(false);
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
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"{ApiVersion}/images/load?quiet=0")) { Content = new WriterContent(writeArchive, cancellationToken) };
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
            if (root.TryGetProperty("errorDetail", out var detail) || root.TryGetProperty("error", out detail))
            {
                var message = detail.ValueKind == JsonValueKind.Object && detail.TryGetProperty("message", out var m) ? m.GetString() : detail.ToString();
                throw new DaemonException($"the Docker daemon ({Host}) refused the load: {message?.Trim()}");
            }

            if (root.TryGetProperty("stream", out var stream) && stream.GetString() is { } text && text.Trim().Length > 0)
            {
                lines.Add(text.Trim());
                progress?.Report(text.Trim());
            }
        }

        return lines;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string what, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new DaemonException($"cannot reach the Docker daemon at {Host}: {ex.Message}", ex);
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
