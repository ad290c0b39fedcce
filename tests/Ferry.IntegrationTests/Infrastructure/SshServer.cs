using System.Diagnostics;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// Debian's OpenSSH server on a loopback port with a host key and a user key generated here; its sessions get
/// DOCKER_HOST pointing at the test daemon (sshd_config SetEnv), so <c>docker system dial-stdio</c> reaches it.
/// <see cref="SearchPath"/> puts an <c>ssh</c> wrapper first that uses the test key and known-hosts file — the
/// user's own ssh configuration, as Ferry relies on it.
/// </summary>
internal sealed class SshServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private SshServer(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    /// <summary>PATH with the ssh wrapper first.</summary>
    public string SearchPath => _directory.File("bin") + ":" + Environment.GetEnvironmentVariable("PATH");

    public static async Task<SshServer> StartAsync(string dockerHost)
    {
        var sshd = Components.Require("sshd", "openssh-server");
        var keygen = Components.Require("ssh-keygen", "openssh-client");
        var ssh = Components.Require("ssh", "openssh-client");
        var dir = new TempDirectory("ferry-sshd");
        (await ProcessRunner.RunAsync(keygen, ["-q", "-t", "ed25519", "-N", string.Empty, "-f", dir.File("host_key")])).EnsureSuccess("ssh-keygen host");
        (await ProcessRunner.RunAsync(keygen, ["-q", "-t", "ed25519", "-N", string.Empty, "-f", dir.File("client_key")])).EnsureSuccess("ssh-keygen client");
        File.Copy(dir.File("client_key.pub"), dir.File("authorized_keys"));
        Directory.CreateDirectory("/run/sshd"); // sshd's privilege-separation directory
        var port = FreePort.Next();
        await File.WriteAllTextAsync(dir.File("sshd_config"), $"""
            Port {port}
            ListenAddress 127.0.0.1
            HostKey {dir.File("host_key")}
            PidFile {dir.File("sshd.pid")}
            AuthorizedKeysFile {dir.File("authorized_keys")}
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            SetEnv DOCKER_HOST={dockerHost}

            """);
        Directory.CreateDirectory(dir.File("bin"));
        var wrapper = dir.File("bin/ssh");
        await File.WriteAllTextAsync(wrapper, $"#!/bin/sh\nexec {ssh} -i {dir.File("client_key")} -o IdentitiesOnly=yes -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR \"$@\"\n");
        File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var info = new ProcessStartInfo(sshd) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-D", "-e", "-f", dir.File("sshd_config") })
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new SshServer(process, dir, port);
        for (var i = 0; i < 100 && !process.HasExited; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(System.Net.IPAddress.Loopback, port);
                return server;
            }
            catch (System.Net.Sockets.SocketException)
            {
                await Task.Delay(50);
            }
        }

        await server.DisposeAsync();
        throw new InvalidOperationException("sshd did not start");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _directory.Dispose();
    }
}
