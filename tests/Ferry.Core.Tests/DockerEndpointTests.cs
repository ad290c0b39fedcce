using System.Security.Cryptography;
using System.Text;
using Ferry.Daemon;
using Ferry.Errors;

namespace Ferry.Core.Tests;

/// <summary>How the daemon is found (flags, DOCKER_* variables, contexts, docker-machine) and how ssh is called.</summary>
[Collection("environment")]
public sealed class DockerEndpointTests : IDisposable
{
    private static readonly string[] Variables = ["DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT", "DOCKER_CONFIG", "MACHINE_STORAGE_PATH"];
    private readonly Dictionary<string, string?> _saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
    private readonly TempDir _dir = new();

    public DockerEndpointTests()
    {
        foreach (var variable in Variables)
        {
            Environment.SetEnvironmentVariable(variable, null);
        }

        Environment.SetEnvironmentVariable("DOCKER_CONFIG", Directory.CreateDirectory(Path.Combine(_dir.Path, "docker")).FullName);
    }

    public void Dispose()
    {
        foreach (var (variable, value) in _saved)
        {
            Environment.SetEnvironmentVariable(variable, value);
        }

        _dir.Dispose();
    }

    [Fact]
    public void Nothing_IsTheDefaultSocket() => Assert.Equal("unix:///var/run/docker.sock", DockerEndpointResolver.Resolve(new DockerEndpointOptions()).Host);

    [Fact]
    public void DockerHostWithTlsVerify_TakesTheCertsFromDockerCertPath()
    {
        Environment.SetEnvironmentVariable("DOCKER_HOST", "tcp://build01:2376");
        Environment.SetEnvironmentVariable("DOCKER_TLS_VERIFY", "1");
        Environment.SetEnvironmentVariable("DOCKER_CERT_PATH", "/certs");
        var endpoint = DockerEndpointResolver.Resolve(new DockerEndpointOptions());
        Assert.Equal(("tcp://build01:2376", true, true, "/certs/ca.pem", "/certs/cert.pem", "/certs/key.pem"), (endpoint.Host, endpoint.Tls, endpoint.TlsVerify, endpoint.CaFile, endpoint.CertFile, endpoint.KeyFile));
    }

    [Fact]
    public void FlagBeatsTheEnvironment()
    {
        Environment.SetEnvironmentVariable("DOCKER_HOST", "tcp://from-env:2375");
        Assert.Equal("ssh://deploy@build01:2222", DockerEndpointResolver.Resolve(new DockerEndpointOptions(Host: "ssh://deploy@build01:2222")).Host);
    }

    [Fact]
    public void CurrentContext_IsReadFromItsMetaFileAndTlsDirectory()
    {
        var config = Environment.GetEnvironmentVariable("DOCKER_CONFIG")!;
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("remote")));
        Directory.CreateDirectory(Path.Combine(config, "contexts", "meta", id));
        File.WriteAllText(Path.Combine(config, "contexts", "meta", id, "meta.json"), """{"Name":"remote","Endpoints":{"docker":{"Host":"tcp://10.0.0.9:2376","SkipTLSVerify":false}}}""");
        var tls = Directory.CreateDirectory(Path.Combine(config, "contexts", "tls", id, "docker")).FullName;
        File.WriteAllText(Path.Combine(tls, "ca.pem"), "x");
        File.WriteAllText(Path.Combine(config, "config.json"), """{"currentContext":"remote"}""");
        var endpoint = DockerEndpointResolver.Resolve(new DockerEndpointOptions());
        Assert.Equal(("tcp://10.0.0.9:2376", true, true, Path.Combine(tls, "ca.pem")), (endpoint.Host, endpoint.Tls, endpoint.TlsVerify, endpoint.CaFile));
        Assert.Contains("remote", endpoint.Source, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownContext_IsAClearError() =>
        Assert.Contains("docker context \"nope\" does not exist", Assert.Throws<InvalidInputException>(() => DockerEndpointResolver.Resolve(new DockerEndpointOptions(Context: "nope"))).Message, StringComparison.Ordinal);

    [Fact]
    public void Machine_ReadsIpPortAndCertificatesFromItsStore()
    {
        var storage = Path.Combine(_dir.Path, "machine");
        var machine = Directory.CreateDirectory(Path.Combine(storage, "machines", "dev1")).FullName;
        File.WriteAllText(Path.Combine(machine, "config.json"), """{"Driver":{"IPAddress":"192.168.99.100"},"HostOptions":{"AuthOptions":{"CaCertPath":"/m/ca.pem","ClientCertPath":"/m/cert.pem","ClientKeyPath":"/m/key.pem"}}}""");
        Environment.SetEnvironmentVariable("MACHINE_STORAGE_PATH", storage);
        var endpoint = DockerEndpointResolver.Resolve(new DockerEndpointOptions(Machine: "dev1"));
        Assert.Equal(("tcp://192.168.99.100:2376", "/m/ca.pem", "/m/cert.pem"), (endpoint.Host, endpoint.CaFile, endpoint.CertFile));
        Assert.Throws<InvalidInputException>(() => DockerEndpointResolver.Resolve(new DockerEndpointOptions(Machine: "../etc")));
    }

    [Theory]
    [InlineData("ssh://deploy@build01:2222", "-o ConnectTimeout=30 -l deploy -p 2222 -- build01 docker system dial-stdio")]
    [InlineData("ssh://build01", "-o ConnectTimeout=30 -- build01 docker system dial-stdio")]
    public void SshArguments_AreTheDockerClisOnes(string host, string expected) =>
        Assert.Equal(expected, string.Join(' ', SshDialer.Arguments(new Uri(host))));

    [Theory]
    [InlineData("ssh://user:secret@build01")]
    [InlineData("ssh://build01/some/path")]
    public void SshWithPasswordOrPath_IsRefused(string host) =>
        Assert.Throws<InvalidInputException>(() => SshDialer.Arguments(new Uri(host)));
}
