using System.Net;
using System.Text;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;

namespace Ferry.Core.Tests;

/// <summary>
/// The bearer-token handshake at the HTTP boundary (a token server is a fake here; the real registry is
/// exercised by the integration tests).
/// </summary>
public sealed class RegistryClientAuthTests
{
    private const string Manifest = """{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":2},"layers":[]}""";

    [Fact]
    public async Task GetManifest_BearerChallenge_FetchesTheScopedTokenOnceAndReusesIt()
    {
        var handler = new FakeTokenRegistry();
        using var client = new RegistryClient(new StaticCredentials(new RegistryCredential("u", "p")), handler: handler);
        var image = ImageReference.Parse("registry.test/team/app:1");

        await client.GetManifestAsync(image, "1");
        await client.GetManifestAsync(image, "1");

        Assert.Equal(1, handler.TokenRequests);
        Assert.Equal("repository:team/app:pull", handler.LastScope);
        Assert.Equal("registry.test", handler.LastService);
        Assert.Equal("Basic " + Convert.ToBase64String("u:p"u8), handler.LastTokenAuthorization);
    }

    [Fact]
    public async Task GetManifest_TokenServiceRefuses_ThrowsAuthenticationFailedWithoutTheSecret()
    {
        var handler = new FakeTokenRegistry { RefuseTokens = true };
        using var client = new RegistryClient(new StaticCredentials(new RegistryCredential("u", "hunter2")), handler: handler);
        var ex = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/team/app:1"), "1"));
        Assert.Contains("refused the credentials for user \"u\"", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetManifest_ByDigestWithOtherContent_ThrowsDigestMismatch()
    {
        var handler = new FakeTokenRegistry();
        using var client = new RegistryClient(handler: handler);
        var wrong = "sha256:" + new string('e', 64);
        await Assert.ThrowsAsync<DigestMismatchException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/team/app:1"), wrong));
    }

    [Fact]
    public async Task GetManifest_PlainHttpRealmForAnHttpsRegistry_IsRefused()
    {
        var handler = new FakeTokenRegistry { Realm = "http://auth.test/token" };
        using var client = new RegistryClient(new StaticCredentials(new RegistryCredential("u", "p")), handler: handler);
        var ex = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/team/app:1"), "1"));
        Assert.Contains("plain HTTP", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, handler.TokenRequests);
    }

    private sealed class StaticCredentials(RegistryCredential credential) : ICredentialProvider
    {
        public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken = default) => ValueTask.FromResult<RegistryCredential?>(credential);
    }

    [Fact]
    public async Task Case_HeaderInjection_TokenWithCrLfIsRefusedAndNeverSent()
    {
        var handler = new FakeTokenRegistry { Token = "tok-1\r\nX-Injected: yes" };
        using var client = new RegistryClient(new StaticCredentials(new RegistryCredential("u", "p")), handler: handler);
        var ex = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/team/app:1"), "1"));
        Assert.Contains("control characters", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(handler.Authorizations, a => a.Contains("X-Injected", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("https://localhost:9/token")]
    [InlineData("https://auth.localhost/token")]
    [InlineData("https://127.0.0.1:9/token")]
    public async Task Case_TokenRealmOnALocalName_IsRefusedForARemoteRegistry(string realm)
    {
        var handler = new FakeTokenRegistry { Realm = realm };
        using var client = new RegistryClient(new StaticCredentials(new RegistryCredential("u", "p")), handler: handler);
        var ex = await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/team/app:1"), "1"));
        Assert.Contains("internal address", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, handler.TokenRequests);
    }

    private sealed class FakeTokenRegistry : HttpMessageHandler
    {
        public int TokenRequests { get; private set; }

        public string? LastScope { get; private set; }

        public string? LastService { get; private set; }

        public string? LastTokenAuthorization { get; private set; }

        public bool RefuseTokens { get; init; }

        public string Realm { get; init; } = "https://auth.test/token";

        public string Token { get; init; } = "tok-1";

        public List<string> Authorizations { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var uri = request.RequestUri!;
            if (uri.Host == "auth.test")
            {
                TokenRequests++;
                var query = System.Web.HttpUtility.ParseQueryString(uri.Query);
                LastScope = query["scope"];
                LastService = query["service"];
                LastTokenAuthorization = request.Headers.Authorization?.ToString();
                return Task.FromResult(RefuseTokens
                    ? new HttpResponseMessage(HttpStatusCode.Unauthorized)
                    : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object> { ["token"] = Token, ["expires_in"] = 300 })) });
            }

            Authorizations.AddRange(request.Headers.TryGetValues("Authorization", out var sent) ? sent : []);
            if (request.Headers.Authorization?.ToString() != "Bearer tok-1")
            {
                var challenge = new HttpResponseMessage(HttpStatusCode.Unauthorized);
                challenge.Headers.TryAddWithoutValidation("WWW-Authenticate", $"Bearer realm=\"{Realm}\",service=\"registry.test\",scope=\"repository:team/app:pull\"");
                return Task.FromResult(challenge);
            }

            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(Manifest)) };
            response.Content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
            return Task.FromResult(response);
        }
    }
}
