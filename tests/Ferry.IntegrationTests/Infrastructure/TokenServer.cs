using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A small Docker token server (distribution's token auth spec) for the tests: issues RS256 JWTs signed by a
/// key whose certificate is the registry's <c>rootcertbundle</c> (sent in the <c>x5c</c> header), for one
/// user/password and one OAuth2 refresh token. The real registry verifies every token it issues.
/// </summary>
internal sealed class TokenServer : IAsyncDisposable
{
    public const string Service = "ferry-test-registry";
    public const string Issuer = "ferry-test-issuer";
    private readonly WebApplication _app;
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;

    private TokenServer(WebApplication app, X509Certificate2 certificate, string bundlePath)
    {
        _app = app;
        _certificate = certificate;
        RootCertBundle = bundlePath;
    }

    public string User { get; init; } = "tokenuser";

    public string Password { get; init; } = "token-Pa55word";

    public string RefreshToken { get; init; } = "refresh-" + Guid.NewGuid().ToString("N");

    /// <summary>The <c>expires_in</c> the server announces.</summary>
    public int AnnouncedExpiresIn { get; set; } = 300;

    /// <summary>How long the JWT really lives (its <c>exp</c>); shorter than announced simulates expiry mid-pull.</summary>
    public TimeSpan ActualLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How many of the next tokens are issued already expired (the registry will refuse them).</summary>
    public int ExpiredTokensToIssue { get; set; }

    public string RootCertBundle { get; }

    public int Port { get; private set; }

    public string Realm(string host = "127.0.0.1") => $"http://{host}:{Port}/token";

    public ConcurrentQueue<TokenRequest> Requests { get; } = new();

    public static async Task<TokenServer> StartAsync(string directory)
    {
        var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=ferry-token-signer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var bundle = Path.Combine(directory, "token-signer.pem");
        await File.WriteAllTextAsync(bundle, certificate.ExportCertificatePem());

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new TokenServer(app, certificate, bundle);
        server._key.ImportParameters(key.ExportParameters(true));
        key.Dispose();
        app.MapMethods("/token", ["GET", "POST"], server.HandleAsync);
        await app.StartAsync();
        server.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
        _key.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var scopes = new List<string>();
        string? subject = null;
        var grant = "basic";
        if (HttpMethods.IsPost(context.Request.Method))
        {
            var form = await context.Request.ReadFormAsync();
            grant = form["grant_type"].ToString();
            scopes.AddRange(form["scope"].Where(s => s is not null)!);
            subject = grant switch
            {
                "refresh_token" when form["refresh_token"] == RefreshToken => User,
                "password" when form["username"] == User && form["password"] == Password => User,
                _ => null,
            };
            if (subject is null)
            {
                Requests.Enqueue(new TokenRequest(context.Request.Method, grant, false, scopes));
                context.Response.StatusCode = 401;
                return;
            }
        }
        else
        {
            scopes.AddRange(context.Request.Query["scope"].Where(s => s is not null)!);
            var header = context.Request.Headers.Authorization.ToString();
            if (header.StartsWith("Basic ", StringComparison.Ordinal))
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]));
                if (decoded != $"{User}:{Password}")
                {
                    Requests.Enqueue(new TokenRequest("GET", "basic", true, scopes));
                    context.Response.StatusCode = 401;
                    return;
                }

                subject = User;
            }
        }

        Requests.Enqueue(new TokenRequest(context.Request.Method, grant, subject is not null, scopes));
        // Anonymous users may pull public/* repositories, as on Docker Hub.
        var token = Issue(subject, subject is null ? scopes.Where(s => s.StartsWith("repository:public/", StringComparison.Ordinal) && s.EndsWith(":pull", StringComparison.Ordinal)) : scopes);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject
        {
            [HttpMethods.IsPost(context.Request.Method) ? "access_token" : "token"] = token,
            ["expires_in"] = AnnouncedExpiresIn,
            ["issued_at"] = DateTimeOffset.UtcNow.ToString("O"),
        }.ToJsonString());
    }

    private string Issue(string? subject, IEnumerable<string> scopes)
    {
        var access = new JsonArray();
        foreach (var scope in scopes)
        {
            // repository:name:actions
            var parts = scope.Split(':');
            if (parts.Length == 3)
            {
                access.Add(new JsonObject { ["type"] = parts[0], ["name"] = parts[1], ["actions"] = new JsonArray(parts[2].Split(',').Select(a => (JsonNode?)a).ToArray()) });
            }
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "RS256", ["x5c"] = new JsonArray(Convert.ToBase64String(_certificate.RawData)) };
        var claims = new JsonObject
        {
            ["iss"] = Issuer,
            ["sub"] = subject ?? string.Empty,
            ["aud"] = Service,
            ["exp"] = ExpiredTokensToIssue-- > 0 ? now - 300 : now + (long)ActualLifetime.TotalSeconds,
            ["nbf"] = now - 600,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["access"] = access,
        };
        var signingInput = Base64Url(Encoding.UTF8.GetBytes(header.ToJsonString())) + "." + Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Base64Url(byte[] data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

internal sealed record TokenRequest(string Method, string Grant, bool Authenticated, IReadOnlyList<string> Scopes);
