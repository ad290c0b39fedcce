using System.Net;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Registry;

/// <summary>Turns registry error responses (distribution spec "Error Codes") into Ferry exceptions.</summary>
internal static class RegistryErrors
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    public static async Task<FerryException> FromResponseAsync(HttpResponseMessage response, string what, string registry, CancellationToken cancellationToken)
    {
        var (code, message) = await ReadEnvelopeAsync(response, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        var method = response.RequestMessage?.Method.Method ?? "GET";
        var uri = Redact(response.RequestMessage?.RequestUri);
        var detail = message ?? code ?? response.ReasonPhrase ?? "error";
        var answer = new RegistryResponse(method, uri, status, code);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound when code is "NAME_UNKNOWN" => new ImageNotFoundException($"{what}: repository not found in {registry}") { Response = answer },
            HttpStatusCode.NotFound when code is "MANIFEST_UNKNOWN" or null => new ImageNotFoundException($"{what}: not found in {registry} (manifest unknown)") { Response = answer },
            HttpStatusCode.NotFound when code is "BLOB_UNKNOWN" => new ImageNotFoundException($"{what}: blob not found in {registry}") { Response = answer },
            HttpStatusCode.NotFound => new ImageNotFoundException($"{what}: not found in {registry} ({detail})") { Response = answer },
            HttpStatusCode.Unauthorized => new AuthenticationFailedException($"{what}: authentication required by {registry} ({detail}); check your credentials (docker login / ~/.docker/config.json)") { Response = answer },
            HttpStatusCode.Forbidden => new AuthenticationFailedException($"{what}: access denied by {registry} ({detail})") { Response = answer },
            HttpStatusCode.MethodNotAllowed when method is "POST" or "PUT" or "PATCH" or "DELETE" =>
                new RegistryException($"{what}: {registry} does not take pushes ({method} {uri} returned 405: {detail}); it is read-only — a pull-through cache or mirror, or a registry serving a bundle — so push to a writable registry", status) { Response = answer },
            HttpStatusCode.TooManyRequests => new RegistryException($"{what}: rate limited by {registry}{RetryAfterText(response)} ({detail})", status) { Response = answer },
            _ => new RegistryException($"{what}: {method} {uri} returned {status}: {detail}", status) { Response = answer },
        };
    }

    /// <summary>A URI safe to print: no query string (signed URLs carry secrets there), no user info.</summary>
    public static string Redact(Uri? uri) => Transport.Redaction.Uri(uri);

    private static string RetryAfterText(HttpResponseMessage response)
    {
        if (Transport.RegistryHttp.RetryAfter(response) is not { } wait)
        {
            return string.Empty;
        }

        var at = DateTimeOffset.UtcNow + wait;
        return wait < TimeSpan.FromMinutes(2) ? $", retry after {Math.Ceiling(wait.TotalSeconds):0} s" : $", retry after {at:yyyy-MM-dd HH:mm:ss} UTC";
    }

    private static async Task<(string? Code, string? Message)> ReadEnvelopeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            var buffer = new byte[MaxErrorBodyBytes];
            var total = 0;
            int n;
            while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += n;
            }

            using var document = JsonDocument.Parse(buffer.AsMemory(0, total));
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array &&
                errors.GetArrayLength() > 0)
            {
                var first = errors[0];
                string? Field(string name) => first.ValueKind == JsonValueKind.Object && first.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                return (Field("code"), Field("message"));
            }
        }
        catch (Exception ex) when (ex is JsonException or IOException or HttpRequestException)
        {
            // Not an error envelope; fall back to the status line.
        }

        return (null, null);
    }
}
