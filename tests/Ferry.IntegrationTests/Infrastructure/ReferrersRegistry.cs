using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// The OCI 1.1 referrers API in front of a real registry, because docker-registry 2.8 has none. It follows the
/// distribution spec for that endpoint: a manifest pushed with a <c>subject</c> is indexed and answered with
/// <c>OCI-Subject</c>; <c>GET /v2/NAME/referrers/DIGEST</c> returns an image index of the subject's referrers
/// (descriptor, <c>artifactType</c>, annotations), empty when there are none, filtered by <c>?artifactType=</c> with
/// <c>OCI-Filters-Applied: artifactType</c> (unless <see cref="IgnoreFilters"/>). Everything else is forwarded to the
/// registry, which stores the bytes. Every request is recorded.
/// </summary>
internal sealed partial class ReferrersRegistry : IAsyncDisposable
{
    private readonly string _target;
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { AllowAutoRedirect = false }) { Timeout = TimeSpan.FromMinutes(5) };
    private readonly ConcurrentDictionary<string, List<JsonObject>> _referrers = new(StringComparer.Ordinal);
    private LoopbackHttpServer? _server;

    private ReferrersRegistry(string target) => _target = target;

    public string Host => _server!.Host;

    /// <summary>Answer filtered requests unfiltered, without <c>OCI-Filters-Applied</c> (as the spec allows).</summary>
    public bool IgnoreFilters { get; set; }

    /// <summary>Answer <c>tags/list</c> with 403 DENIED, as registries that grant pulls but not listings do.</summary>
    public bool RefuseTagList { get; set; }

    /// <summary>Method and path (with query) of every request.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<ReferrersRegistry> StartAsync(string targetHost)
    {
        var registry = new ReferrersRegistry(targetHost);
        registry._server = await LoopbackHttpServer.StartAsync(registry.HandleAsync);
        return registry;
    }

    public async ValueTask DisposeAsync()
    {
        await _server!.DisposeAsync();
        _upstream.Dispose();
    }

    [GeneratedRegex("^/v2/(?<name>.+)/referrers/(?<digest>sha256:[a-f0-9]{64})$")]
    private static partial Regex ReferrersPath();

    [GeneratedRegex("^/v2/(?<name>.+)/manifests/(?<reference>[^/]+)$")]
    private static partial Regex ManifestPath();

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        Requests.Enqueue($"{request.Method} {request.Path}{request.QueryString}");
        if (request.Method == "GET" && ReferrersPath().Match(request.Path.Value!) is { Success: true } referrers)
        {
            var entries = _referrers.TryGetValue($"{referrers.Groups["name"].Value}@{referrers.Groups["digest"].Value}", out var list) ? list.ToList() : [];
            if (request.Query["artifactType"].FirstOrDefault() is { } type && !IgnoreFilters)
            {
                entries = entries.Where(e => e["artifactType"]?.GetValue<string>() == type).ToList();
                context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
            }

            var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = "application/vnd.oci.image.index.v1+json", ["manifests"] = new JsonArray(entries.Select(e => (JsonNode)e.DeepClone()).ToArray()) };
            context.Response.ContentType = "application/vnd.oci.image.index.v1+json";
            await context.Response.WriteAsync(index.ToJsonString());
            return;
        }

        if (RefuseTagList && request.Path.Value!.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 403;
            await context.Response.WriteAsync("""{"errors":[{"code":"DENIED","message":"listing tags is not allowed"}]}""");
            return;
        }

        byte[]? body = null;
        if (request.Method == "PUT" && ManifestPath().IsMatch(request.Path.Value!))
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            body = buffer.ToArray();
        }

        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), $"http://{_target}{request.Path}{request.QueryString}");
        if (body is not null)
        {
            forward.Content = new ByteArrayContent(body);
        }
        else if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(request.Body);
            if (request.ContentLength is { } length)
            {
                forward.Content.Headers.ContentLength = length;
            }
        }

        if (forward.Content is not null && request.ContentType is { } contentType)
        {
            forward.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }

        foreach (var name in new[] { "Accept", "Range" })
        {
            if (request.Headers.TryGetValue(name, out var values))
            {
                forward.Headers.TryAddWithoutValidation(name, values.ToArray());
            }
        }

        using var response = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)response.StatusCode;
        foreach (var header in response.Headers.Concat(response.Content.Headers).Where(h => h.Key is not ("Transfer-Encoding" or "Connection")))
        {
            context.Response.Headers[header.Key] = header.Key == "Location"
                ? header.Value.Select(v => v.Replace($"//{_target}/", $"//{Host}/", StringComparison.Ordinal)).ToArray()
                : header.Value.ToArray();
        }

        if (body is not null && response.IsSuccessStatusCode && Index(request.Path.Value!, body, request.ContentType) is { } subject)
        {
            context.Response.Headers["OCI-Subject"] = subject;
        }

        await using var stream = await response.Content.ReadAsStreamAsync(context.RequestAborted);
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    /// <summary>Records a pushed manifest that has a subject; returns the subject's digest.</summary>
    private string? Index(string path, byte[] body, string? contentType)
    {
        var manifest = JsonNode.Parse(body)!.AsObject();
        if (manifest["subject"]?["digest"]?.GetValue<string>() is not { } subject)
        {
            return null;
        }

        var name = ManifestPath().Match(path).Groups["name"].Value;
        var entry = new JsonObject
        {
            ["mediaType"] = manifest["mediaType"]?.GetValue<string>() ?? contentType,
            ["digest"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body)),
            ["size"] = body.Length,
            ["artifactType"] = manifest["artifactType"]?.GetValue<string>() ?? manifest["config"]?["mediaType"]?.GetValue<string>(),
        };
        if (manifest["annotations"] is JsonObject annotations)
        {
            entry["annotations"] = annotations.DeepClone();
        }

        var list = _referrers.GetOrAdd($"{name}@{subject}", _ => []);
        lock (list)
        {
            if (list.All(e => e["digest"]!.GetValue<string>() != entry["digest"]!.GetValue<string>()))
            {
                list.Add(entry);
            }
        }

        return subject;
    }
}
