using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;

namespace Ferry.Core.Tests;

/// <summary>
/// Retries, resume, redirects, token refresh and realm checks at the HTTP boundary, with a scripted handler
/// for faults the real registry cannot produce on demand. Named after reliability.md §7 cases where they apply.
/// </summary>
public sealed class RegistryTransportTests
{
    private static readonly ImageReference Image = ImageReference.Parse("registry.test/team/app:1");
    private static readonly RegistryClientOptions Fast = new() { RetryDelay = TimeSpan.FromMilliseconds(10), MaxRetryAfter = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task Case33_ServiceUnavailableTwice_IsRetriedThenSucceeds()
    {
        var (blob, descriptor) = Blob(1000);
        var handler = new ScriptedHandler((request, i) => i < 2 ? ScriptedHandler.Status(HttpStatusCode.ServiceUnavailable) : Ok(blob));
        using var client = new RegistryClient(options: Fast, handler: handler);
        Assert.Equal(blob, await client.GetBlobBytesAsync(Image, descriptor));
        Assert.Equal(3, handler.Requests.Count);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task Case33_NotFoundAndForbidden_AreNotRetried(HttpStatusCode status)
    {
        var (_, descriptor) = Blob(10);
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Status(status));
        using var client = new RegistryClient(options: Fast, handler: handler);
        await Assert.ThrowsAnyAsync<FerryException>(() => client.GetBlobBytesAsync(Image, descriptor));
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Case33_PersistentFailure_GivesUpAfterTheBoundedAttempts()
    {
        var (_, descriptor) = Blob(10);
        var handler = new ScriptedHandler((_, _) => ScriptedHandler.Status(HttpStatusCode.BadGateway));
        using var client = new RegistryClient(options: Fast with { Retries = 2 }, handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobBytesAsync(Image, descriptor));
        Assert.Equal(502, ex.StatusCode);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task Case32_TooManyRequestsWithRetryAfterSeconds_WaitsThatLong()
    {
        var (blob, descriptor) = Blob(100);
        var handler = new ScriptedHandler((_, i) => i == 0 ? RateLimited(r => r.Delta = TimeSpan.FromSeconds(1)) : Ok(blob));
        using var client = new RegistryClient(options: Fast, handler: handler);
        var clock = Stopwatch.StartNew();
        Assert.Equal(blob, await client.GetBlobBytesAsync(Image, descriptor));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.95), $"waited only {clock.Elapsed}");
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task Case32_TooManyRequestsWithRetryAfterDate_WaitsUntilThen()
    {
        var (blob, descriptor) = Blob(100);
        var handler = new ScriptedHandler((_, i) => i == 0 ? RateLimited(r => r.Date = DateTimeOffset.UtcNow.AddSeconds(2)) : Ok(blob));
        using var client = new RegistryClient(options: Fast, handler: handler);
        var clock = Stopwatch.StartNew();
        Assert.Equal(blob, await client.GetBlobBytesAsync(Image, descriptor));
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"waited only {clock.Elapsed}"); // HTTP dates have 1 s resolution
    }

    [Fact]
    public async Task Case32_RetryAfterBeyondTheCap_FailsAtOnceSayingWhenToRetry()
    {
        var (_, descriptor) = Blob(100);
        var handler = new ScriptedHandler((_, _) => RateLimited(r => r.Delta = TimeSpan.FromHours(6)));
        using var client = new RegistryClient(options: Fast, handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobBytesAsync(Image, descriptor));
        Assert.Contains("rate limited by registry.test, retry after", ex.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Case31_CutBody_ResumesWithRangeAndVerifiesTheWholeDigest()
    {
        var (blob, descriptor) = Blob(300_000);
        var handler = new ScriptedHandler((request, i) => i == 0
            ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new CuttingContent(blob, 120_000) }
            : Partial(blob, request.Headers.Range!.Ranges.First().From!.Value));
        using var client = new RegistryClient(options: Fast, handler: handler);
        Assert.Equal(blob, await ReadAllAsync(client, descriptor));
        Assert.Equal("bytes=120000-", handler.Requests[1].Range);
    }

    [Fact]
    public async Task Case31_ServerIgnoresRange_RestartsFromZeroAndSkipsThePrefix()
    {
        var (blob, descriptor) = Blob(200_000);
        var handler = new ScriptedHandler((_, i) => i == 0 ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new CuttingContent(blob, 50_000) } : Ok(blob));
        using var client = new RegistryClient(options: Fast, handler: handler);
        Assert.Equal(blob, await ReadAllAsync(client, descriptor));
        Assert.Equal("bytes=50000-", handler.Requests[1].Range);
    }

    [Fact]
    public async Task Case31_WrongContentRange_IsNotTrustedAndTheBlobIsFetchedWhole()
    {
        var (blob, descriptor) = Blob(100_000);
        var handler = new ScriptedHandler((request, i) => i switch
        {
            0 => new HttpResponseMessage(HttpStatusCode.OK) { Content = new CuttingContent(blob, 40_000) },
            1 => Partial(blob, 30_000), // claims to start elsewhere than asked
            _ => Ok(blob),
        });
        using var client = new RegistryClient(options: Fast, handler: handler);
        Assert.Equal(blob, await ReadAllAsync(client, descriptor));
        Assert.Equal(3, handler.Requests.Count);
        Assert.Null(handler.Requests[2].Range);
    }

    [Fact]
    public async Task Case31_RangeNotSatisfiable_RestartsFromZero()
    {
        var (blob, descriptor) = Blob(100_000);
        var handler = new ScriptedHandler((_, i) => i switch
        {
            0 => new HttpResponseMessage(HttpStatusCode.OK) { Content = new CuttingContent(blob, 10_000) },
            1 => ScriptedHandler.Status(HttpStatusCode.RequestedRangeNotSatisfiable),
            _ => Ok(blob),
        });
        using var client = new RegistryClient(options: Fast, handler: handler);
        Assert.Equal(blob, await ReadAllAsync(client, descriptor));
    }

    [Fact]
    public async Task Case31_ResumedBytesThatDiffer_FailTheDigestCheck()
    {
        var (blob, descriptor) = Blob(100_000);
        var other = (byte[])blob.Clone();
        other[90_000] ^= 0xff;
        var handler = new ScriptedHandler((_, i) => i == 0 ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new CuttingContent(blob, 10_000) } : Partial(other, 10_000));
        using var client = new RegistryClient(options: Fast, handler: handler);
        await Assert.ThrowsAsync<DigestMismatchException>(() => ReadAllAsync(client, descriptor));
    }

    [Fact]
    public async Task Case31_ConnectionThatKeepsFailingWithoutProgress_GivesUpClearly()
    {
        var (blob, descriptor) = Blob(100_000);
        var handler = new ScriptedHandler((request, i) => new HttpResponseMessage(i == 0 ? HttpStatusCode.OK : HttpStatusCode.PartialContent)
        {
            Content = i == 0 ? new CuttingContent(blob, 1000) : PartialContent(blob, 1000, cutAfter: 0),
        });
        using var client = new RegistryClient(options: Fast with { MaxResumeAttempts = 3 }, handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => ReadAllAsync(client, descriptor));
        Assert.Contains("download cut at 1000 of 100000 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Equal(4, handler.Requests.Count);
    }

    [Fact]
    public async Task Case34_RedirectToAnotherHost_DropsAuthorizationAndFollows()
    {
        var (blob, descriptor) = Blob(500);
        var handler = new ScriptedHandler((request, _) => request.RequestUri!.Host switch
        {
            "registry.test" when request.Headers.Authorization is null => Challenge("Basic realm=\"r\""),
            "registry.test" => Redirect("https://storage.test/blob?X-Amz-Signature=topsecret"),
            _ => Ok(blob),
        });
        using var client = new RegistryClient(new FixedCredentials(new RegistryCredential("u", "p")), Fast, handler: handler);
        Assert.Equal(blob, await client.GetBlobBytesAsync(Image, descriptor));
        var storage = Assert.Single(handler.To("storage.test"));
        Assert.Null(storage.Authorization);
    }

    [Fact]
    public async Task Case34_RedirectFromHttpsToHttp_IsRefused()
    {
        var (_, descriptor) = Blob(500);
        var handler = new ScriptedHandler((request, _) => request.RequestUri!.Host == "registry.test" ? Redirect("http://storage.test/blob") : Ok([]));
        using var client = new RegistryClient(options: Fast, handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobBytesAsync(Image, descriptor));
        Assert.Contains("from https to plain http", ex.Message, StringComparison.Ordinal);
        Assert.Empty(handler.To("storage.test"));
    }

    [Theory]
    [InlineData("https://169.254.169.254/latest/meta-data")]
    [InlineData("https://10.1.2.3/blob")]
    [InlineData("https://127.0.0.1:9/blob")]
    public async Task Case35_RedirectToAnInternalAddress_IsRefusedForARemoteRegistry(string target)
    {
        var (_, descriptor) = Blob(500);
        var handler = new ScriptedHandler((request, _) => Redirect(target));
        using var client = new RegistryClient(options: Fast, handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetBlobBytesAsync(Image, descriptor));
        Assert.Contains("internal address", ex.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Case25_IdentityToken_IsExchangedByOAuth2PostNotSentAsAPassword()
    {
        var handler = new ScriptedHandler((request, _) => request.RequestUri!.Host switch
        {
            "auth.test" => Json("{\"access_token\":\"tok-9\",\"expires_in\":300}"),
            _ when request.Headers.Authorization?.ToString() == "Bearer tok-9" => Manifest(),
            _ => Challenge("Bearer realm=\"https://auth.test/token\",service=\"registry.test\""),
        });
        using var client = new RegistryClient(new FixedCredentials(new RegistryCredential(string.Empty, string.Empty, "refresh-abc")), Fast, handler: handler);
        await client.GetManifestAsync(Image, "1");
        var token = Assert.Single(handler.To("auth.test"));
        Assert.Equal("POST", token.Method);
        Assert.Null(token.Authorization);
        Assert.Contains("grant_type=refresh_token", token.Body, StringComparison.Ordinal);
        Assert.Contains("refresh_token=refresh-abc", token.Body, StringComparison.Ordinal);
        Assert.Contains("scope=repository%3Ateam%2Fapp%3Apull", token.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case30_TokenExpiredMidPull_IsRefreshedOnceTransparently()
    {
        var issued = 0;
        var accepted = "Bearer tok-1";
        var handler = new ScriptedHandler((request, _) =>
        {
            if (request.RequestUri!.Host == "auth.test")
            {
                issued++;
                return Json($"{{\"token\":\"tok-{issued}\",\"expires_in\":300}}");
            }

            return request.Headers.Authorization?.ToString() == accepted ? Manifest() : Challenge("Bearer realm=\"https://auth.test/token\",service=\"registry.test\"");
        });
        using var client = new RegistryClient(options: Fast, handler: handler);
        await client.GetManifestAsync(Image, "1");
        accepted = "Bearer tok-2"; // the registry now considers tok-1 expired, though the token said 300 s
        await client.GetManifestAsync(Image, "1");
        Assert.Equal(2, issued);
        Assert.Equal(["Bearer tok-1", "Bearer tok-2"], handler.To("registry.test").Skip(2).Select(r => r.Authorization));
    }

    [Fact]
    public async Task Case30_TokenThatIsAlwaysRejected_FailsAfterOneRefreshWithoutALoop()
    {
        var handler = new ScriptedHandler((request, _) => request.RequestUri!.Host == "auth.test"
            ? Json("{\"token\":\"useless\",\"expires_in\":300}")
            : Challenge("Bearer realm=\"https://auth.test/token\",service=\"registry.test\",error=\"invalid_token\""));
        using var client = new RegistryClient(options: Fast, handler: handler);
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.GetManifestAsync(Image, "1"));
        Assert.Equal(2, handler.To("registry.test").Count());
    }

    [Theory]
    [InlineData("https://169.254.169.254/token")]
    [InlineData("https://10.0.0.8/token")]
    [InlineData("ftp://auth.test/token")]
    [InlineData("https://user:pw@auth.test/token")]
    public async Task Case29_TokenRealmOnAnInternalAddressOrOddScheme_IsRefusedBeforeAnyCredentialIsSent(string realm)
    {
        var handler = new ScriptedHandler((request, _) => Challenge($"Bearer realm=\"{realm}\",service=\"registry.test\""));
        using var client = new RegistryClient(new FixedCredentials(new RegistryCredential("u", "p")), Fast, handler: handler);
        await Assert.ThrowsAsync<AuthenticationFailedException>(() => client.GetManifestAsync(Image, "1"));
        Assert.All(handler.Requests, r => Assert.Equal("registry.test", r.Uri.Host));
    }

    [Fact]
    public async Task Case29_TokenServiceRedirectingToAnInternalAddress_IsRefused()
    {
        var handler = new ScriptedHandler((request, _) => request.RequestUri!.Host switch
        {
            "auth.test" => Redirect("https://169.254.169.254/steal"),
            _ => Challenge("Bearer realm=\"https://auth.test/token\",service=\"registry.test\""),
        });
        using var client = new RegistryClient(new FixedCredentials(new RegistryCredential("u", "p")), Fast, handler: handler);
        await Assert.ThrowsAnyAsync<FerryException>(() => client.GetManifestAsync(Image, "1"));
        Assert.DoesNotContain(handler.Requests, r => r.Uri.Host == "169.254.169.254");
    }

    [Fact]
    public async Task Case28_BearerScopeAndService_AreAskedForExactly()
    {
        var handler = new ScriptedHandler((request, _) => request.RequestUri!.Host switch
        {
            "auth.test" => Json("{\"token\":\"t\"}"),
            _ when request.Headers.Authorization is not null => Manifest(),
            _ => Challenge("Negotiate, Bearer realm=\"https://auth.test/token?x=1\",service=\"registry.test\",scope=\"repository:team/app:pull,push\""),
        });
        using var client = new RegistryClient(options: Fast, handler: handler);
        await client.GetManifestAsync(Image, "1");
        var query = System.Web.HttpUtility.ParseQueryString(handler.To("auth.test").Single().Uri.Query);
        Assert.Equal("1", query["x"]);
        Assert.Equal("registry.test", query["service"]);
        Assert.Equal("repository:team/app:pull", query["scope"]);
    }

    private static (byte[] Data, Descriptor Descriptor) Blob(int size)
    {
        var data = new byte[size];
        new Random(size).NextBytes(data);
        var digest = Digest.Parse("sha256:" + Convert.ToHexStringLower(SHA256.HashData(data)));
        return (data, new Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", digest, size));
    }

    private static async Task<byte[]> ReadAllAsync(RegistryClient client, Descriptor descriptor)
    {
        await using var stream = await client.OpenBlobAsync(Image, descriptor);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static HttpResponseMessage Ok(byte[] data) => new(HttpStatusCode.OK) { Content = new ByteArrayContent(data) };

    private static HttpResponseMessage Partial(byte[] data, long from) => new(HttpStatusCode.PartialContent) { Content = PartialContent(data, from, cutAfter: null) };

    private static HttpContent PartialContent(byte[] data, long from, int? cutAfter)
    {
        var rest = data[(int)from..];
        HttpContent content = cutAfter is { } cut ? new CuttingContent(rest, cut) : new ByteArrayContent(rest);
        content.Headers.ContentRange = new ContentRangeHeaderValue(from, data.Length - 1, data.Length);
        return content;
    }

    private static HttpResponseMessage RateLimited(Action<RetryConditionHeaderValueBuilder> configure)
    {
        var builder = new RetryConditionHeaderValueBuilder();
        configure(builder);
        var response = ScriptedHandler.Status(HttpStatusCode.TooManyRequests, "{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}");
        response.Headers.RetryAfter = builder.Delta is { } delta ? new RetryConditionHeaderValue(delta) : new RetryConditionHeaderValue(builder.Date!.Value);
        return response;
    }

    private static HttpResponseMessage Redirect(string location)
    {
        var response = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect);
        response.Headers.Location = new Uri(location);
        return response;
    }

    private static HttpResponseMessage Challenge(string header)
    {
        var response = ScriptedHandler.Status(HttpStatusCode.Unauthorized);
        response.Headers.TryAddWithoutValidation("WWW-Authenticate", header);
        return response;
    }

    private static HttpResponseMessage Json(string json) => new(HttpStatusCode.OK) { Content = new StringContent(json) };

    private static HttpResponseMessage Manifest()
    {
        var response = new HttpResponseMessage(HttpStatusCode.OK)
        {
            Content = new StringContent("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":2},"layers":[]}"""),
        };
        response.Content.Headers.ContentType = new("application/vnd.oci.image.manifest.v1+json");
        return response;
    }

    private sealed class RetryConditionHeaderValueBuilder
    {
        public TimeSpan? Delta { get; set; }

        public DateTimeOffset? Date { get; set; }
    }

    private sealed class FixedCredentials(RegistryCredential credential) : ICredentialProvider
    {
        public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken = default) => ValueTask.FromResult<RegistryCredential?>(credential);
    }
}
