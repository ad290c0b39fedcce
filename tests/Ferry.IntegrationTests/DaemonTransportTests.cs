using System.Security.Cryptography;
using System.Text;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Reaching the daemon the ways the docker CLI does, against the real dockerd: TCP with TLS and client
/// certificates (flags, DOCKER_* variables, a docker context, a docker-machine store), a wrong client
/// certificate, and SSH through Debian's sshd and <c>docker system dial-stdio</c>.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class DaemonTransportTests(RealComponentsFixture env)
{
    private string Image => $"{env.Host}/test/base:1";

    [Fact]
    public async Task TcpWithTlsFlags_SavesWithClientCertificates()
    {
        await PullAsync();
        using var dir = new TempDirectory();
        var certs = env.DaemonCertificates;
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.TlsHost!, "--tlsverify", "--tlscacert", certs.CaFile, "--tlscert", certs.ClientCertificate, "--tlskey", certs.ClientKey, "-o", dir.File("tls.tar"), Image);
        Assert.True(save.ExitCode == 0, save.StandardError);
        (await FerryCli.RunAsync("verify", dir.File("tls.tar"))).EnsureSuccess("ferry verify");
    }

    [Fact]
    public async Task WrongClientCertificate_IsRefusedWithAClearMessage()
    {
        await PullAsync();
        using var dir = new TempDirectory();
        using var stranger = new TestCertificates(dir.File("stranger"));
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", env.Docker.TlsHost!, "--tlsverify", "--tlscacert", env.DaemonCertificates.CaFile, "--tlscert", stranger.ClientCertificate, "--tlskey", stranger.ClientKey, "-o", dir.File("x.tar"), Image);
        Assert.Equal(1, save.ExitCode);
        var line = Assert.Single(save.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"cannot reach the Docker daemon at {env.Docker.TlsHost}", line, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("x.tar")));
    }

    [Fact]
    public async Task DockerHostTlsVerifyAndCertPath_AreHonoured()
    {
        await PullAsync();
        using var dir = new TempDirectory();
        var certPath = CopyCerts(dir.File("certs"));
        var save = await FerryCli.RunWithEnvironmentAsync(
            new Dictionary<string, string> { ["DOCKER_HOST"] = env.Docker.TlsHost!, ["DOCKER_TLS_VERIFY"] = "1", ["DOCKER_CERT_PATH"] = certPath },
            "save", "--daemon", "-o", dir.File("env.tar"), Image);
        Assert.True(save.ExitCode == 0, save.StandardError);
    }

    [Fact]
    public async Task CurrentDockerContext_IsHonoured()
    {
        await PullAsync();
        using var dir = new TempDirectory();
        var config = WriteContext(dir, "ferrytest");
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), """{"currentContext":"ferrytest"}""");
        var save = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["DOCKER_CONFIG"] = config, ["DOCKER_HOST"] = string.Empty }, "save", "--daemon", "-o", dir.File("ctx.tar"), Image);
        Assert.True(save.ExitCode == 0, save.StandardError);
    }

    /// <summary>`load --daemon` reaches an Engine the ways `save --daemon` does: -H with TLS flags, and --context.</summary>
    [Fact]
    public async Task LoadIntoDaemon_TakesTheSameEngineFlagsAsSave()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("app.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        var certs = env.DaemonCertificates;
        await env.Docker.DockerAsync("rmi", "-f", $"{env.Host}/test/app:1");
        var tls = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["DOCKER_HOST"] = string.Empty }, "load", archive, "-H", env.Docker.TlsHost!, "--tlsverify", "--tlscacert", certs.CaFile, "--tlscert", certs.ClientCertificate, "--tlskey", certs.ClientKey);
        Assert.True(tls.ExitCode == 0, tls.StandardError);
        (await env.Docker.DockerAsync("image", "inspect", $"{env.Host}/test/app:1")).EnsureSuccess("the image loaded over TCP+TLS");

        await env.Docker.DockerAsync("rmi", "-f", $"{env.Host}/test/app:1");
        var config = WriteContext(dir, "named");
        var context = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["DOCKER_CONFIG"] = config, ["DOCKER_HOST"] = string.Empty }, "load", archive, "--context", "named");
        Assert.True(context.ExitCode == 0, context.StandardError);
        (await env.Docker.DockerAsync("image", "inspect", $"{env.Host}/test/app:1")).EnsureSuccess("the image loaded through --context");

        // Without TLS material the TLS port refuses: the flags were not ignored.
        var bare = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["DOCKER_HOST"] = string.Empty, ["DOCKER_CERT_PATH"] = dir.File("none") }, "load", archive, "-H", env.Docker.TlsHost!);
        Assert.NotEqual(0, bare.ExitCode);
    }

    private string WriteContext(TempDirectory dir, string name)
    {
        var config = Directory.CreateDirectory(dir.File("docker")).FullName;
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        var meta = Directory.CreateDirectory(Path.Combine(config, "contexts", "meta", id)).FullName;
        var metaJson = new System.Text.Json.Nodes.JsonObject
        {
            ["Name"] = name,
            ["Metadata"] = new System.Text.Json.Nodes.JsonObject(),
            ["Endpoints"] = new System.Text.Json.Nodes.JsonObject { ["docker"] = new System.Text.Json.Nodes.JsonObject { ["Host"] = env.Docker.TlsHost, ["SkipTLSVerify"] = false } },
        };
        File.WriteAllText(Path.Combine(meta, "meta.json"), metaJson.ToJsonString());
        CopyCerts(Path.Combine(config, "contexts", "tls", id, "docker"));
        return config;
    }

    [Fact]
    public async Task DockerMachineStore_IsHonoured()
    {
        await PullAsync();
        using var dir = new TempDirectory();
        var machine = Directory.CreateDirectory(Path.Combine(dir.File("machine"), "machines", "dev1")).FullName;
        CopyCerts(machine);
        var port = new Uri(env.Docker.TlsHost!.Replace("tcp://", "http://", StringComparison.Ordinal)).Port;
        var machineJson = new System.Text.Json.Nodes.JsonObject
        {
            ["Name"] = "dev1",
            ["DriverName"] = "generic",
            ["Driver"] = new System.Text.Json.Nodes.JsonObject { ["IPAddress"] = "127.0.0.1", ["EnginePort"] = port },
            ["HostOptions"] = new System.Text.Json.Nodes.JsonObject
            {
                ["AuthOptions"] = new System.Text.Json.Nodes.JsonObject
                {
                    ["CaCertPath"] = Path.Combine(machine, "ca.pem"),
                    ["ClientCertPath"] = Path.Combine(machine, "cert.pem"),
                    ["ClientKeyPath"] = Path.Combine(machine, "key.pem"),
                },
            },
        };
        await File.WriteAllTextAsync(Path.Combine(machine, "config.json"), machineJson.ToJsonString());
        var save = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["MACHINE_STORAGE_PATH"] = dir.File("machine"), ["DOCKER_HOST"] = string.Empty }, "save", "--machine", "dev1", "-o", dir.File("machine.tar"), Image);
        Assert.True(save.ExitCode == 0, save.StandardError);
    }

    [Fact]
    public async Task Ssh_SavesThroughDockerSystemDialStdio()
    {
        await PullAsync();
        await using var sshd = await SshServer.StartAsync(env.Docker.Host);
        using var dir = new TempDirectory();
        var save = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["PATH"] = sshd.SearchPath }, "save", "--daemon", "-H", $"ssh://root@127.0.0.1:{sshd.Port}", "-o", dir.File("ssh.tar"), Image);
        Assert.True(save.ExitCode == 0, save.StandardError);
        (await FerryCli.RunAsync("verify", dir.File("ssh.tar"))).EnsureSuccess("ferry verify");
    }

    private async Task PullAsync() => (await env.Docker.DockerAsync("pull", Image)).EnsureSuccess("docker pull");

    private string CopyCerts(string directory)
    {
        Directory.CreateDirectory(directory);
        File.Copy(env.DaemonCertificates.CaFile, Path.Combine(directory, "ca.pem"), overwrite: true);
        File.Copy(env.DaemonCertificates.ClientCertificate, Path.Combine(directory, "cert.pem"), overwrite: true);
        File.Copy(env.DaemonCertificates.ClientKey, Path.Combine(directory, "key.pem"), overwrite: true);
        return directory;
    }
}
