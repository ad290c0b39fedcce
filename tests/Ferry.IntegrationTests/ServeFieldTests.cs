using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Ferry.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Ferry.IntegrationTests;

/// <summary>
/// The field, #24: <c>ferry serve</c> on another host (a network namespace), pulled from this one by the real clients.
/// docker, podman and skopeo treat only loopback registries as plain HTTP, so the server either has TLS they trust —
/// made by <c>--tls auto</c>, installed with the line it prints — or tells each client what it needs. Slow clients that
/// hold connections must not lock the others out.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ServeFieldTests(RealComponentsFixture env, ITestOutputHelper output)
{
    [Fact]
    public async Task ServeTlsAuto_OnAnotherHost_IsPulledByDockerPodmanSkopeoAndContainerd_AfterThePrintedInstallStep()
    {
        await using var lab = await NetworkLab.CreateAsync();
        using var dir = new TempDirectory("ferry-serve-tls");
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartOnAsync(lab, lab.FarAddress.ToString(), bundle, "--tls", "auto");
        var advice = await WaitForAsync(server, "  ferry:      --cert-dir");
        Assert.Contains($"ferry: TLS: made a new CA in {dir.Path}/ferry-serve-tls", advice, StringComparison.Ordinal);
        var installed = new List<string>();
        try
        {
            // The install lines, run as printed.
            foreach (var client in new[] { "  docker:", "  podman, skopeo, buildah:", "  containerd:" })
            {
                installed.Add(await RunPrintedInstallAsync(advice, client));
            }

            var docker = await env.Docker.DockerAsync("pull", $"{server.Host}/test/app:1");
            Assert.True(docker.ExitCode == 0, docker.StandardError);
            Assert.Equal("hello from app", await env.Docker.RunAsync($"{server.Host}/test/app:1", "cat", "/app.txt"));

            var skopeo = Components.Require("skopeo", "skopeo");
            var raw = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", $"docker://{server.Host}/test/oci:1"])).EnsureSuccess("skopeo inspect (verifying TLS)");
            Assert.Equal(env.Digests["test/oci:1"], "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(raw.StandardOutput.TrimEnd('\n')))));

            var podman = Components.Require("podman", "podman");
            string[] store = ["--root", dir.File("root"), "--runroot", dir.File("runroot"), "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "none"];
            (await ProcessRunner.RunAsync(podman, [.. store, "pull", $"{server.Host}/test/oci:1"])).EnsureSuccess("podman pull (verifying TLS)");
            Assert.Equal(env.Digests["test/oci:1"], (await ProcessRunner.RunAsync(podman, [.. store, "image", "inspect", "--format", "{{.Digest}}", $"{server.Host}/test/oci:1"])).StandardOutput.Trim());
            await ProcessRunner.RunAsync(podman, [.. store, "rmi", "-a", "-f"]);

            // containerd (ctr) with the hosts.toml the printed line wrote.
            await using (var containerd = await Containerd.StartAsync(dir.File("containerd")))
            {
                (await containerd.CtrAsync("images", "pull", "--hosts-dir", "/etc/containerd/certs.d", $"{server.Host}/test/oci:1")).EnsureSuccess("ctr images pull (verifying TLS through hosts.toml)");
                Assert.Contains(env.Digests["test/oci:1"], (await containerd.CtrAsync("images", "ls")).StandardOutput, StringComparison.Ordinal);
            }

            // A second start reuses the CA the clients trust now.
            await server.StopAsync();
            await using var again = await FerryServer.StartOnAsync(lab, lab.FarAddress.ToString(), bundle, "--tls", "auto");
            Assert.Contains("reusing the CA", await WaitForAsync(again, "  ferry:      --cert-dir"), StringComparison.Ordinal);
        }
        finally
        {
            await env.Docker.DockerAsync("rmi", $"{server.Host}/test/app:1");
            foreach (var directory in installed)
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public async Task ServePlainHttp_OnAnotherHost_SaysWhatEachClientNeeds()
    {
        await using var lab = await NetworkLab.CreateAsync();
        using var dir = new TempDirectory("ferry-serve-plain");
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/base:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartOnAsync(lab, lab.FarAddress.ToString(), bundle);
        var advice = await WaitForAsync(server, "  ferry:");
        Assert.Contains($"plain HTTP on {lab.FarAddress}", advice, StringComparison.Ordinal);
        Assert.Contains($"\"insecure-registries\": [\"{server.Host}\"]", advice, StringComparison.Ordinal);
        Assert.Contains($"location = \"{server.Host}\" insecure = true", advice, StringComparison.Ordinal);
        Assert.Contains($"/etc/containerd/certs.d/{server.Host}/hosts.toml", advice, StringComparison.Ordinal);

        // What the advice is about: docker refuses it as it stands.
        var pull = await env.Docker.DockerAsync("pull", $"{server.Host}/test/base:1");
        Assert.NotEqual(0, pull.ExitCode);
        Assert.Contains("HTTP response to HTTPS client", pull.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThirtySlowClients_DoNotStopADockerPull_AndExtraConnectionsGet503WithRetryAfter()
    {
        await using var lab = await NetworkLab.CreateAsync();
        using var dir = new TempDirectory("ferry-serve-slow");
        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartOnAsync(lab, lab.FarAddress.ToString(), bundle, "--tls", "auto", "--max-connections", "30");
        var advice = await WaitForAsync(server, "  ferry:      --cert-dir");
        var installed = await RunPrintedInstallAsync(advice, "  docker:");
        try
        {
            var baseline = Stopwatch.StartNew();
            (await env.Docker.DockerAsync("pull", $"{server.Host}/test/app:1")).EnsureSuccess("docker pull without load");
            var quiet = baseline.Elapsed;
            (await env.Docker.DockerAsync("rmi", $"{server.Host}/test/app:1")).EnsureSuccess("docker rmi");

            // 30 slowloris clients from another host: each finishes its TLS handshake, then trickles a request head
            // one byte every 2 s, and reconnects whenever the server closes it.
            using var attack = new CancellationTokenSource();
            var stats = new SlowlorisStats();
            var attackers = Enumerable.Range(0, 30).Select(_ => SlowlorisAsync(lab.ThirdAddress, lab.FarAddress, server.Port, stats, attack.Token)).ToList();
            await Task.Delay(TimeSpan.FromSeconds(3));
            var clock = Stopwatch.StartNew();
            var pull = await env.Docker.DockerAsync("pull", $"{server.Host}/test/app:1");
            var underAttack = clock.Elapsed;
            await attack.CancelAsync();
            await Task.WhenAll(attackers);
            output.WriteLine($"docker pull: {quiet.TotalSeconds:F1} s alone, {underAttack.TotalSeconds:F1} s with 30 slow connections ({stats.Connected} connections made, {stats.Refused} answered 503)");
            Assert.True(pull.ExitCode == 0, pull.StandardError);
            Assert.True(stats.Connected >= 15, $"the slow clients got only {stats.Connected} connections");
            Assert.True(stats.Refused > 0, "no slow client was refused with 503");
            Assert.Equal("hello from app", await env.Docker.RunAsync($"{server.Host}/test/app:1", "cat", "/app.txt"));
            Assert.Contains("answered 503 with Retry-After", server.Log, StringComparison.Ordinal);
        }
        finally
        {
            await env.Docker.DockerAsync("rmi", $"{server.Host}/test/app:1");
            Directory.Delete(installed, recursive: true);
        }
    }

    [Fact]
    public async Task LimitRate_CapsWhatClientsReceive()
    {
        using var dir = new TempDirectory("ferry-serve-rate");
        var layer = TestImages.RandomLayer("serve-rate", 16 * 1024 * 1024, docker: false);
        var image = TestImages.Image([layer], docker: false, label: "serve-rate");
        using (var http = new HttpClient())
        {
            await TestImages.PushImageAsync(http, env.Host, "field/serverate", image, "1");
        }

        var bundle = dir.File("bundle.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/field/serverate:1")).EnsureSuccess("ferry save");
        await using var server = await FerryServer.StartAsync(bundle, "--limit-rate", "2MiB");
        using var client = new HttpClient();
        var clock = Stopwatch.StartNew();
        var bytes = await client.GetByteArrayAsync($"http://{server.Host}/v2/field/serverate/blobs/{layer.Digest}");
        var ratio = bytes.Length / clock.Elapsed.TotalSeconds / (2 * 1024 * 1024);
        output.WriteLine($"serve --limit-rate 2MiB: {ratio:F3}x of the cap");
        Assert.Equal(layer.Content, bytes);
        Assert.InRange(ratio, 0.9, 1.1);
    }

    /// <summary>Runs the install line printed for <paramref name="client"/>, as printed; returns the directory it made (for clean-up).</summary>
    private static async Task<string> RunPrintedInstallAsync(string advice, string client)
    {
        var line = advice.Split('\n').Single(l => l.StartsWith(client, StringComparison.Ordinal));
        var command = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        (await ProcessRunner.RunAsync("bash", ["-c", command])).EnsureSuccess(command);
        return command.Split(' ')[2];
    }

    private static async Task<string> WaitForAsync(FerryServer server, string marker)
    {
        for (var i = 0; i < 100 && !server.Log.Contains(marker, StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
        }

        Assert.True(server.Log.Contains(marker, StringComparison.Ordinal), server.Log);
        return server.Log;
    }

    private static async Task SlowlorisAsync(IPAddress from, IPAddress to, int port, SlowlorisStats stats, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(new IPEndPoint(to, port), cancellationToken);
                await using var tls = new SslStream(new NetworkStream(socket, ownsSocket: false), false, (_, _, _, _) => true);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = to.ToString(), ApplicationProtocols = [SslApplicationProtocol.Http11] }, cancellationToken);
                Interlocked.Increment(ref stats.Connected);
                var head = Encoding.ASCII.GetBytes($"GET /v2/ HTTP/1.1\r\nHost: {to}:{port}\r\nX-Slow: ");
                await tls.WriteAsync(head, cancellationToken);
                var answer = new byte[64];
                var reading = tls.ReadAsync(answer, cancellationToken).AsTask();
                while (!reading.IsCompleted && !cancellationToken.IsCancellationRequested)
                {
                    await Task.WhenAny(reading, Task.Delay(2000, cancellationToken));
                    if (!reading.IsCompleted)
                    {
                        await tls.WriteAsync("a"u8.ToArray(), cancellationToken);
                    }
                }

                if (reading.IsCompletedSuccessfully && Encoding.ASCII.GetString(answer, 0, reading.Result).StartsWith("HTTP/1.1 503", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref stats.Refused);
                }
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException or ObjectDisposedException)
            {
                // Closed by the server (header timeout) or the test: connect again.
            }

            try
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private sealed class SlowlorisStats
    {
        public int Connected;
        public int Refused;
    }
}
