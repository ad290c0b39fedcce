using System.Diagnostics;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>A real Distribution registry (Debian's docker-registry) on 127.0.0.1, storage in a temp directory.</summary>
internal sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;

    private RegistryProcess(Process process, TempDirectory directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Where the registry stores its blobs (tests may corrupt them on purpose).</summary>
    public string DataDirectory => _directory.File("data");

    public static async Task<RegistryProcess> StartAsync(string? htpasswdFile = null)
    {
        var binary = Components.Require("docker-registry", "docker-registry");
        var directory = new TempDirectory("ferry-registry");
        var port = FreePort.Next();
        var config = directory.File("config.yml");
        await File.WriteAllTextAsync(config, $"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: true
            storage:
              filesystem:
                rootdirectory: {directory.File("data")}
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:{port}
            """);
        if (htpasswdFile is not null)
        {
            await File.AppendAllTextAsync(config, $"\nauth:\n  htpasswd:\n    realm: ferry-test\n    path: {htpasswdFile}\n");
        }
        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        var process = Process.Start(info)!;
        process.ErrorDataReceived += (_, _) => { };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var registry = new RegistryProcess(process, directory, port);
        using var http = new HttpClient();
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/v2/");
                if (response.IsSuccessStatusCode || (htpasswdFile is not null && response.StatusCode == System.Net.HttpStatusCode.Unauthorized))
                {
                    return registry;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(100);
        }

        await registry.DisposeAsync();
        throw new InvalidOperationException("docker-registry did not start");
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
