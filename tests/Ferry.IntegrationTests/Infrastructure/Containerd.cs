using System.Diagnostics;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>containerd (Debian's, 1.6) with its own root, state and socket under a temp directory, driven with ctr.</summary>
internal sealed class Containerd : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _socket;

    private Containerd(Process process, string socket)
    {
        _process = process;
        _socket = socket;
    }

    public static async Task<Containerd> StartAsync(string directory)
    {
        var binary = Components.Require("containerd", "containerd");
        Directory.CreateDirectory(directory);
        var socket = Path.Combine(directory, "containerd.sock");
        var config = Path.Combine(directory, "config.toml");
        await File.WriteAllTextAsync(config, $"""
            version = 2
            root = "{directory}/root"
            state = "{directory}/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "{socket}"
            [ttrpc]
              address = "{socket}.ttrpc"
            [debug]
              address = ""
            """);
        var info = new ProcessStartInfo(binary, ["--config", config]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var process = Process.Start(info)!;
        _ = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        var containerd = new Containerd(process, socket);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await containerd.CtrAsync("version")).ExitCode != 0)
        {
            if (DateTime.UtcNow > deadline || process.HasExited)
            {
                await containerd.DisposeAsync();
                throw new InvalidOperationException("containerd did not start");
            }

            await Task.Delay(100);
        }

        return containerd;
    }

    public Task<ProcessResult> CtrAsync(params string[] arguments) =>
        ProcessRunner.RunAsync(Components.Require("ctr", "containerd"), ["--address", _socket, "--namespace", "ferry-test", .. arguments]);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
