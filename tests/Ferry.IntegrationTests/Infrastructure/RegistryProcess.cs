using System.Diagnostics;
using System.Net;
using System.Text;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>How a test registry is configured: plain, htpasswd, TLS (optionally mutual), or token auth.</summary>
internal sealed record RegistryConfig
{
    public string? Htpasswd { get; init; }

    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    /// <summary>CA bundle for client certificates: when set, the registry requires mutual TLS.</summary>
    public string? ClientCas { get; init; }

    public TokenAuthConfig? Token { get; init; }

    /// <summary>Share another registry's storage (seed through a plain registry, test through this one).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The address to listen on (default 127.0.0.1); with <see cref="Lab"/>, the far host's.</summary>
    public IPAddress? Address { get; init; }

    /// <summary>Run the registry on this lab's far host.</summary>
    public NetworkLab? Lab { get; init; }

    /// <summary>Keep the registry's access log (one line per request), read with <see cref="RegistryProcess.Requests"/>.</summary>
    public bool AccessLog { get; init; }
}

/// <summary>Distribution's <c>auth.token</c> section.</summary>
internal sealed record TokenAuthConfig(string Realm, string Service, string Issuer, string RootCertBundle);

/// <summary>A real Distribution registry (Debian's docker-registry) on 127.0.0.1, storage in a temp directory.</summary>
internal sealed class RegistryProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _directory;
    private readonly List<string> _requests = [];

    private RegistryProcess(Process process, TempDirectory directory, IPAddress address, int port, string dataDirectory, bool tls)
    {
        Address = address;
        _process = process;
        _directory = directory;
        Port = port;
        DataDirectory = dataDirectory;
        IsTls = tls;
    }

    public int Port { get; }

    public IPAddress Address { get; }

    public string Host => $"{Address}:{Port}";

    public bool IsTls { get; }

    /// <summary>The request lines of the access log so far (<c>"HEAD /v2/app/manifests/1.0 HTTP/1.1"</c>), when <see cref="RegistryConfig.AccessLog"/> is on.</summary>
    public IReadOnlyList<string> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Where the registry stores its blobs (tests may corrupt them on purpose).</summary>
    public string DataDirectory { get; }

    public static Task<RegistryProcess> StartAsync(string? htpasswdFile = null) => StartAsync(new RegistryConfig { Htpasswd = htpasswdFile });

    public static async Task<RegistryProcess> StartAsync(RegistryConfig settings)
    {
        var binary = Components.Require("docker-registry", "docker-registry");
        var directory = new TempDirectory("ferry-registry");
        var port = FreePort.Next();
        var address = settings.Address ?? settings.Lab?.FarAddress ?? IPAddress.Loopback;
        var data = settings.DataDirectory ?? directory.File("data");
        var config = new StringBuilder($"""
            version: 0.1
            log:
              level: error
              accesslog:
                disabled: {(settings.AccessLog ? "false" : "true")}
            storage:
              filesystem:
                rootdirectory: {data}
              delete:
                enabled: true
            http:
              addr: {address}:{port}

            """);
        if (settings.TlsCertificate is not null)
        {
            config.Append($"  tls:\n    certificate: {settings.TlsCertificate}\n    key: {settings.TlsKey}\n");
            if (settings.ClientCas is not null)
            {
                config.Append($"    clientcas:\n      - {settings.ClientCas}\n");
            }
        }

        if (settings.Htpasswd is not null)
        {
            config.Append($"auth:\n  htpasswd:\n    realm: ferry-test\n    path: {settings.Htpasswd}\n");
        }
        else if (settings.Token is { } token)
        {
            config.Append($"auth:\n  token:\n    realm: {token.Realm}\n    service: {token.Service}\n    issuer: {token.Issuer}\n    rootcertbundle: {token.RootCertBundle}\n");
        }

        await File.WriteAllTextAsync(directory.File("config.yml"), config.ToString());
        var command = settings.Lab is { } lab ? [.. lab.Prefix, binary] : new[] { binary };
        var info = new ProcessStartInfo(command[0]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var part in command[1..])
        {
            info.ArgumentList.Add(part);
        }

        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(directory.File("config.yml"));
        var process = Process.Start(info)!;
        var errors = new StringBuilder();
        RegistryProcess? registry = null;
        process.ErrorDataReceived += (_, e) => { lock (errors) { errors.AppendLine(e.Data); } registry?.Record(e.Data); };
        process.OutputDataReceived += (_, e) => registry?.Record(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var tls = settings.TlsCertificate is not null;
        registry = new RegistryProcess(process, directory, address, port, data, tls);

        // Ready when its port accepts connections (the protocol is the tests' business).
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var probe = new System.Net.Sockets.TcpClient();
                await probe.ConnectAsync(address, port);
                return registry;
            }
            catch (System.Net.Sockets.SocketException)
            {
            }

            if (process.HasExited)
            {
                break;
            }

            await Task.Delay(50);
        }

        await registry.DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not start: {errors}");
    }

    /// <summary>Keeps the quoted request line of an access-log line (combined log format).</summary>
    private void Record(string? line)
    {
        var open = line?.IndexOf('"', StringComparison.Ordinal) ?? -1;
        var close = open < 0 ? -1 : line!.IndexOf('"', open + 1);
        if (close < 0 || !line![(open + 1)..close].Contains(" /v2/", StringComparison.Ordinal))
        {
            return;
        }

        lock (_requests)
        {
            _requests.Add(line[(open + 1)..close]);
        }
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
