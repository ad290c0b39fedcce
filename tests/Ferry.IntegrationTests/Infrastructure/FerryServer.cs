using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>A <c>ferry serve</c> process on a free loopback port; stopped with SIGTERM (its exit code and log kept).</summary>
internal sealed class FerryServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private FerryServer(Process process, string address, int port)
    {
        _process = process;
        Port = port;
        Address = address;
    }

    public int Port { get; }

    public string Address { get; }

    public string Host => $"{Address}:{Port}";

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    public int? ExitCode { get; private set; }

    public static Task<FerryServer> StartAsync(params string[] arguments) => StartOnAsync(null, "127.0.0.1", arguments);

    /// <summary>Starts <c>ferry serve</c> on <paramref name="address"/>, on a lab's far host when one is given.</summary>
    public static async Task<FerryServer> StartOnAsync(NetworkLab? lab, string address, params string[] arguments)
    {
        var port = FreePort.Next();
        string[] command = [.. lab?.Prefix ?? [], "dotnet", FerryCli.AssemblyPath, "serve", "--listen", $"{address}:{port}", .. arguments];
        var info = new ProcessStartInfo(command[0]) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in command[1..])
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info)!;
        var server = new FerryServer(process, address, port);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                server._started.TrySetResult("exited");
                return;
            }

            lock (server._log)
            {
                server._log.AppendLine(e.Data);
            }

            if (e.Data.StartsWith("ferry: serving", StringComparison.Ordinal))
            {
                server._started.TrySetResult(e.Data);
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var first = await server._started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        if (first == "exited")
        {
            await process.WaitForExitAsync();
            server.ExitCode = process.ExitCode;
        }

        return server;
    }

    /// <summary>Sends SIGTERM and waits for the exit.</summary>
    public async Task<int> StopAsync()
    {
        if (ExitCode is { } code)
        {
            return code;
        }

        using (Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        await _process.WaitForExitAsync(cts.Token);
        ExitCode = _process.ExitCode;
        return _process.ExitCode;
    }

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
