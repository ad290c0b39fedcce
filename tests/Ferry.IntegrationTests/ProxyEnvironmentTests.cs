using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY with a real forward proxy (CONNECT and absolute-form) that alone knows
/// the test host names: a token realm reached through the proxy while the loopback registry is reached
/// directly, NO_PROXY taking the realm out, and a TLS registry reached by name through a CONNECT tunnel.
/// </summary>
public sealed class ProxyEnvironmentTests(SecureRegistries env) : IClassFixture<SecureRegistries>, IAsyncLifetime
{
    private const string TokenHost = "token.ferry.test";
    private RegistryProcess? _registry;
    private ForwardProxy? _proxy;

    public async Task InitializeAsync()
    {
        // A token registry whose realm names a host only the proxy can resolve.
        _registry = await RegistryProcess.StartAsync(new RegistryConfig
        {
            DataDirectory = env.Seed.DataDirectory,
            Token = new TokenAuthConfig(env.Tokens.Realm(TokenHost), TokenServer.Service, TokenServer.Issuer, env.Tokens.RootCertBundle),
        });
        _proxy = new ForwardProxy(new Dictionary<string, int> { [TokenHost] = env.Tokens.Port, [TestCertificates.ProxiedName] = env.Tls.Port });
    }

    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }
    }

    [Fact]
    public async Task Case36_RealmGoesThroughTheProxyAndTheLoopbackRegistryDirectly()
    {
        var environment = Environment(noProxy: "127.0.0.1,localhost");
        var result = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("proxied"), "app.tar"), $"{_registry!.Host}/{SecureRegistries.Repository}:1");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.All(_proxy!.Targets, t => Assert.Equal($"{TokenHost}:{env.Tokens.Port}", t));
        Assert.NotEmpty(_proxy.Targets);
    }

    [Fact]
    public async Task Case36_NoProxySuffixTakesTheRealmOutOfTheProxy()
    {
        var before = _proxy!.Targets.Count;
        var environment = Environment(noProxy: ".ferry.test");
        var result = await FerryCli.RunAsync(environment, null, "save", "--retries", "0", "-o", Path.Combine(env.Scratch("noproxy"), "app.tar"), $"{_registry!.Host}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot reach {TokenHost}:{env.Tokens.Port}", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, _proxy.Targets.Count);
    }

    [Fact]
    public async Task HttpsProxy_TunnelsToATlsRegistryByNameWithItsCertsDirectory()
    {
        var certDir = env.Scratch("proxy-certs");
        var authority = $"{TestCertificates.ProxiedName}:{env.Tls.Port}";
        env.Certificates.CertsDirectory(certDir, authority, withClientCertificate: false);
        var environment = Environment(noProxy: string.Empty);
        var output = Path.Combine(env.Scratch("tunnel"), "app.tar");
        var result = await FerryCli.RunAsync(environment, SecureRegistries.Password, "save", "--cert-dir", certDir, "-u", SecureRegistries.User, "--password-stdin", "-o", output, $"{authority}/{SecureRegistries.Repository}:1");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains(authority, _proxy!.Targets);
        Assert.True(File.Exists(output));
    }

    private Dictionary<string, string> Environment(string noProxy)
    {
        var environment = env.CleanEnvironment(SecureRegistries.BasicConfigJson(_registry!.Host, env.Tokens.User, env.Tokens.Password));
        environment["HTTPS_PROXY"] = _proxy!.Url;
        environment["HTTP_PROXY"] = _proxy.Url;
        environment["NO_PROXY"] = noProxy;
        return environment;
    }
}
