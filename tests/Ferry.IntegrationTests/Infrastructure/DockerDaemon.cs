using System.Diagnostics;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A real Docker Engine (Debian's dockerd 20.10) with vfs storage, its own data and exec roots and a unix
/// socket in a temp directory, no networking set-up (no iptables, no bridge).
/// </summary>
internal sealed class DockerDaemon : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _root;

    private DockerDaemon(Process process, string root)
    {
        _process = process;
        _root = root;
    }

    public string Host => $"unix://{_root}/docker.sock";

    public string SocketPath => $"{_root}/docker.sock";

    /// <summary>tcp://127.0.0.1:PORT with TLS and client certificates required, when started with certificates.</summary>
    public string? TlsHost { get; private set; }

    public static async Task<DockerDaemon> StartAsync(TestCertificates? tls = null)
    {
        var dockerd = Components.Require("dockerd", "docker.io");
        Components.Require("containerd", "containerd");
        Components.Require("runc", "runc");

        // Short path: unix socket paths are limited to 108 bytes.
        var root = Directory.CreateTempSubdirectory("fd-").FullName;
        var info = new ProcessStartInfo(dockerd) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[]
                 {
                     "--storage-driver=vfs", "--iptables=false", "--ip-masq=false", "--bridge=none",
                     "--data-root", Path.Combine(root, "data"), "--exec-root", Path.Combine(root, "exec"),
                     "--pidfile", Path.Combine(root, "docker.pid"), "-H", $"unix://{root}/docker.sock",
                 })
        {
            info.ArgumentList.Add(argument);
        }

        var tlsPort = FreePort.Next();
        if (tls is not null)
        {
            foreach (var argument in new[] { "-H", $"tcp://127.0.0.1:{tlsPort}", "--tlsverify", "--tlscacert", tls.CaFile, "--tlscert", tls.ServerCertificate, "--tlskey", tls.ServerKey })
            {
                info.ArgumentList.Add(argument);
            }
        }

        var process = Process.Start(info)!;
        var log = new System.Text.StringBuilder();
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var daemon = new DockerDaemon(process, root) { TlsHost = tls is null ? null : $"tcp://127.0.0.1:{tlsPort}" };
        for (var i = 0; i < 120; i++)
        {
            if (File.Exists(Path.Combine(root, "docker.sock")))
            {
                var version = await daemon.DockerAsync("version", "--format", "{{.Server.Version}}");
                if (version.ExitCode == 0)
                {
                    return daemon;
                }
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(250);
        }

        await daemon.DisposeAsync();
        string text;
        lock (log)
        {
            text = log.ToString();
        }

        throw new InvalidOperationException("dockerd did not start:\n" + text[Math.Max(0, text.Length - 3000)..]);
    }

    /// <summary>Runs a busybox command in a throw-away container (no network) and returns its trimmed output; fails the test when it fails.</summary>
    public async Task<string> RunAsync(string image, params string[] command) =>
        (await DockerAsync(["run", "--rm", "--network", "none", image, "/bin/busybox", .. command])).EnsureSuccess("docker run " + image).StandardOutput.Trim();

    public Task<ProcessResult> DockerAsync(params string[] arguments) =>
        ProcessRunner.RunAsync(Components.DockerClient, new[] { "-H", Host }.Concat(arguments), TimeSpan.FromMinutes(3));

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM lets dockerd stop its containerd and unmount; kill if it takes too long.
            using (Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
