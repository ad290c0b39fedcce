using Ferry.Inspecting;
using Ferry.IntegrationTests.Infrastructure;
using Ferry.Reading;

namespace Ferry.IntegrationTests;

/// <summary>
/// The real registry over TLS with a CA generated in the test (and htpasswd auth), and with client
/// certificates required: certs.d, --cert-dir, --tls-verify=false, and refusals.
/// </summary>
public sealed class TlsRegistryTests(SecureRegistries env) : IClassFixture<SecureRegistries>
{
    private string Image => $"{env.Tls.Host}/{SecureRegistries.Repository}:1";

    [Fact]
    public async Task Case38_SelfSignedRegistryWithoutTrust_IsRefusedAndNeverFallsBackToHttp()
    {
        var dir = env.Scratch("tls-refused");
        var output = Path.Combine(dir, "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), SecureRegistries.Password, "save", "-u", SecureRegistries.User, "--password-stdin", "-o", output, Image);
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"TLS: {env.Tls.Host} is not trusted", line, StringComparison.Ordinal);
        Assert.Contains("--cert-dir", line, StringComparison.Ordinal);
        Assert.DoesNotContain("http://", line, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public async Task Case37_CaInCertDirSubdirectory_ConnectsAndSavesAVerifiedArchive()
    {
        var certDir = env.Scratch("certdir");
        env.Certificates.CertsDirectory(certDir, env.Tls.Host, withClientCertificate: false);
        var output = Path.Combine(env.Scratch("out"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), SecureRegistries.Password + "\n", "save", "--cert-dir", certDir, "-u", SecureRegistries.User, "--password-stdin", "-o", output, Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var verified = await ArchiveVerifier.VerifyAsync(output);
        Assert.True(verified.IsValid, string.Join('\n', verified.Problems));
        Assert.Equal(env.Digest, Assert.Single(verified.Images).Digest.ToString());
    }

    [Fact]
    public async Task Case37_CaInEtcDockerCertsD_IsReadAsDockerReadsIt()
    {
        var hostDir = env.Certificates.CertsDirectory("/etc/docker/certs.d", env.Tls.Host, withClientCertificate: false);
        try
        {
            var output = Path.Combine(env.Scratch("out"), "app.tar");
            var config = SecureRegistries.BasicConfigJson(env.Tls.Host, SecureRegistries.User, SecureRegistries.Password);
            var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "-o", output, Image);
            Assert.True(result.ExitCode == 0, result.StandardError);
            Assert.True(File.Exists(output));
        }
        finally
        {
            Directory.Delete(hostDir, recursive: true);
        }
    }

    [Fact]
    public async Task Case37_MutualTls_ClientCertificateFromCertsDirIsPresented()
    {
        var certDir = env.Scratch("mtls");
        env.Certificates.CertsDirectory(certDir, env.MutualTls.Host, withClientCertificate: true);
        var output = Path.Combine(env.Scratch("out"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--cert-dir", certDir, "-o", output, $"{env.MutualTls.Host}/{SecureRegistries.Repository}:1");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.True((await ArchiveVerifier.VerifyAsync(output)).IsValid);
    }

    [Fact]
    public async Task Case37_MutualTlsWithoutClientCertificate_FailsWithOneClearLine()
    {
        var certDir = env.Scratch("mtls-nocert");
        env.Certificates.CertsDirectory(certDir, env.MutualTls.Host, withClientCertificate: false);
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retries", "0", "--cert-dir", certDir, "-o", Path.Combine(certDir, "x.tar"), $"{env.MutualTls.Host}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"ferry: error: ", line, StringComparison.Ordinal);
        Assert.True(line.Contains($"the connection broke off with registry {env.MutualTls.Host}", StringComparison.Ordinal) && line.Contains("may require a client certificate", StringComparison.Ordinal), line);
        Assert.False(File.Exists(Path.Combine(certDir, "x.tar")));
    }

    [Fact]
    public async Task Case37_MutualTlsWithAnUntrustedClientCertificate_SaysTheCertificateWasRefused()
    {
        var certDir = env.Scratch("mtls-stranger");
        var hostDir = env.Certificates.CertsDirectory(certDir, env.MutualTls.Host, withClientCertificate: true);
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=stranger", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension([new System.Security.Cryptography.Oid("1.3.6.1.5.5.7.3.2")], false));
        using var stranger = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllTextAsync(Path.Combine(hostDir, "client.cert"), stranger.ExportCertificatePem());
        await File.WriteAllTextAsync(Path.Combine(hostDir, "client.key"), key.ExportPkcs8PrivateKeyPem());
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--retries", "0", "--cert-dir", certDir, "-o", Path.Combine(certDir, "x.tar"), $"{env.MutualTls.Host}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.True(line.Contains("refused the client certificate", StringComparison.Ordinal), line);
        Assert.DoesNotContain("see inner exception", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case37_KeyWithoutItsCertificate_IsAnErrorNamingTheFile()
    {
        var certDir = env.Scratch("halfpair");
        var hostDir = env.Certificates.CertsDirectory(certDir, env.MutualTls.Host, withClientCertificate: true);
        File.Delete(Path.Combine(hostDir, "client.cert"));
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "--cert-dir", certDir, "-o", Path.Combine(certDir, "x.tar"), $"{env.MutualTls.Host}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"missing client certificate {Path.Combine(hostDir, "client.cert")} for key {Path.Combine(hostDir, "client.key")}", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TlsVerifyFalse_SkipsVerificationWithAWarning()
    {
        var output = Path.Combine(env.Scratch("noverify"), "app.tar");
        var config = SecureRegistries.BasicConfigJson(env.Tls.Host, SecureRegistries.User, SecureRegistries.Password);
        var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "--tls-verify=false", "-o", output, Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("will not be verified", result.StandardError, StringComparison.Ordinal);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public async Task Insecure_AcceptsTheUntrustedCertificateWithAWarning()
    {
        var output = Path.Combine(env.Scratch("insecure"), "app.tar");
        var config = SecureRegistries.BasicConfigJson(env.Tls.Host, SecureRegistries.User, SecureRegistries.Password);
        var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "--insecure", "-o", output, Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("will not be verified", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case38_PlainHttpRegistryBehindANonLoopbackName_IsNotSilentlyDowngraded()
    {
        // registry.ferry.test is only known to the proxy; it points at a plain-HTTP registry. Without
        // --plain-http/--insecure, Ferry speaks TLS to it and fails instead of falling back to HTTP.
        await using var proxy = new ForwardProxy(new Dictionary<string, int> { [TestCertificates.ProxiedName] = env.Basic.Port });
        var environment = env.CleanEnvironment();
        environment["HTTPS_PROXY"] = proxy.Url;
        environment["HTTP_PROXY"] = proxy.Url;
        var result = await FerryCli.RunAsync(environment, null, "save", "--retries", "0", "-o", Path.Combine(env.Scratch("downgrade"), "x.tar"), $"{TestCertificates.ProxiedName}:{env.Basic.Port}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot reach registry {TestCertificates.ProxiedName}:{env.Basic.Port}", result.StandardError, StringComparison.Ordinal);
        Assert.All(proxy.Targets, t => Assert.Equal($"{TestCertificates.ProxiedName}:{env.Basic.Port}", t));
    }
}
