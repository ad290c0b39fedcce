using Ferry.Registry.Transport;

namespace Ferry.Core.Tests;

/// <summary>NO_PROXY semantics as Go's httpproxy (docker, skopeo, crane) define them.</summary>
public sealed class EnvironmentProxyTests
{
    [Theory]
    [InlineData("example.com", "https://example.com/v2/", true)]
    [InlineData("example.com", "https://registry.example.com/v2/", true)]
    [InlineData(".example.com", "https://example.com/v2/", false)]
    [InlineData(".example.com", "https://registry.example.com/v2/", true)]
    [InlineData("example.com", "https://notexample.com/v2/", false)]
    [InlineData("*", "https://anything.test/", true)]
    [InlineData("10.0.0.0/8", "https://10.1.2.3:5000/v2/", true)]
    [InlineData("10.0.0.0/8", "https://11.1.2.3/v2/", false)]
    [InlineData("192.168.1.5", "https://192.168.1.5/v2/", true)]
    [InlineData("registry.test:5000", "https://registry.test:5000/v2/", true)]
    [InlineData("registry.test:5000", "https://registry.test:6000/v2/", false)]
    [InlineData("", "https://registry.test/v2/", false)]
    public void Case36_NoProxy_MatchesAsGoDoes(string noProxy, string url, bool bypassed)
    {
        var proxy = new EnvironmentProxy("http://proxy.test:3128", "http://proxy.test:3128", noProxy);
        Assert.Equal(bypassed, proxy.IsBypassed(new Uri(url)));
        Assert.Equal(bypassed ? null : new Uri("http://proxy.test:3128"), proxy.GetProxy(new Uri(url)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:5000/v2/")]
    [InlineData("http://localhost:5000/v2/")]
    [InlineData("http://[::1]:5000/v2/")]
    public void Case36_LoopbackIsNeverProxied(string url) =>
        Assert.Null(new EnvironmentProxy("http://proxy.test:3128", "http://proxy.test:3128", null).GetProxy(new Uri(url)));

    [Fact]
    public void Case36_SchemeSelectsTheProxyVariable()
    {
        var proxy = new EnvironmentProxy("http://secure-proxy.test:1", "http://plain-proxy.test:2", null);
        Assert.Equal("secure-proxy.test", proxy.GetProxy(new Uri("https://r.test/"))!.Host);
        Assert.Equal("plain-proxy.test", proxy.GetProxy(new Uri("http://r.test/"))!.Host);
        Assert.Null(new EnvironmentProxy(null, "http://plain-proxy.test:2", null).GetProxy(new Uri("https://r.test/")));
    }

    [Fact]
    public void ProxyCredentials_AreTakenFromTheUrlAndRedactedInMessages()
    {
        var proxy = new EnvironmentProxy("http://bob:s3cret@proxy.test:3128", null, null);
        Assert.NotNull(proxy.Credentials);
        Assert.DoesNotContain("s3cret", EnvironmentProxy.Redact("http://bob:s3cret@proxy.test:3128"), StringComparison.Ordinal);
    }
}
