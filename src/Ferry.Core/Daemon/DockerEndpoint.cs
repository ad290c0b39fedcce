using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Daemon;

/// <summary>
/// Where a Docker Engine listens and how to reach it: <c>unix://</c>, <c>tcp://</c> (optionally TLS with a CA and a
/// client certificate) or <c>ssh://</c>, and where the setting came from (for messages).
/// </summary>
/// <param name="Host">The address.</param>
/// <param name="Source">Where it came from: a flag, <c>DOCKER_HOST</c>, a context, a machine, or the default.</param>
public sealed record DockerEndpoint(string Host, string Source)
{
    /// <summary>Use TLS on a tcp:// address.</summary>
    public bool Tls { get; init; }

    /// <summary>Verify the daemon's certificate (against <see cref="CaFile"/> when given).</summary>
    public bool TlsVerify { get; init; } = true;

    /// <summary>The CA certificate (PEM) that signed the daemon's certificate.</summary>
    public string? CaFile { get; init; }

    /// <summary>The client certificate (PEM).</summary>
    public string? CertFile { get; init; }

    /// <summary>The client certificate's key (PEM).</summary>
    public string? KeyFile { get; init; }

    /// <summary>The default socket.</summary>
    public static DockerEndpoint Default { get; } = new("unix:///var/run/docker.sock", "the default socket");
}

/// <summary>What the user said on the command line about the daemon.</summary>
/// <param name="Host"><c>--docker-host</c> (alias <c>-H</c>).</param>
/// <param name="TlsVerify"><c>--tlsverify</c>.</param>
/// <param name="CaFile"><c>--tlscacert</c>.</param>
/// <param name="CertFile"><c>--tlscert</c>.</param>
/// <param name="KeyFile"><c>--tlskey</c>.</param>
/// <param name="Machine"><c>--machine</c>.</param>
/// <param name="Context"><c>--context</c>.</param>
public sealed record DockerEndpointOptions(string? Host = null, bool TlsVerify = false, string? CaFile = null, string? CertFile = null, string? KeyFile = null, string? Machine = null, string? Context = null);

/// <summary>
/// Finds the daemon the way the docker CLI does: <c>--docker-host</c> (with the <c>--tls*</c> flags), else
/// <c>--machine</c> (docker-machine's store), else <c>DOCKER_HOST</c> (with <c>DOCKER_TLS_VERIFY</c> and
/// <c>DOCKER_CERT_PATH</c>), else the context named by <c>--context</c>, <c>DOCKER_CONTEXT</c> or config.json's
/// <c>currentContext</c> (its <c>meta.json</c> and TLS files under <c>~/.docker/contexts/</c>), else the default socket.
/// </summary>
public static class DockerEndpointResolver
{
    /// <summary>Resolves the endpoint.</summary>
    /// <param name="options">The command-line settings.</param>
    /// <returns>The endpoint.</returns>
    /// <exception cref="InvalidInputException">A named context or machine does not exist, or its files are malformed.</exception>
    public static DockerEndpoint Resolve(DockerEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var dockerConfig = Registry.Auth.CredentialSources.DefaultDockerConfigPath() is { } path ? Path.GetDirectoryName(path)! : null;
        if (options.Host is { Length: > 0 } host)
        {
            var certPath = Environment.GetEnvironmentVariable("DOCKER_CERT_PATH") is { Length: > 0 } env ? env : dockerConfig;
            var tls = options.TlsVerify || options.CaFile is not null || options.CertFile is not null;
            return new DockerEndpoint(host, "--docker-host")
            {
                Tls = tls,
                TlsVerify = options.TlsVerify || options.CaFile is not null,
                CaFile = options.CaFile ?? (tls && certPath is not null ? Existing(Path.Combine(certPath, "ca.pem")) : null),
                CertFile = options.CertFile ?? (tls && certPath is not null ? Existing(Path.Combine(certPath, "cert.pem")) : null),
                KeyFile = options.KeyFile ?? (tls && certPath is not null ? Existing(Path.Combine(certPath, "key.pem")) : null),
            };
        }

        if (options.Machine is { Length: > 0 } machine)
        {
            return FromMachine(machine);
        }

        if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } envHost)
        {
            var verify = Environment.GetEnvironmentVariable("DOCKER_TLS_VERIFY") is { Length: > 0 } v && v != "0";
            var certPath = Environment.GetEnvironmentVariable("DOCKER_CERT_PATH") is { Length: > 0 } p ? p : dockerConfig;
            return new DockerEndpoint(envHost, "DOCKER_HOST")
            {
                Tls = verify,
                TlsVerify = verify,
                CaFile = verify && certPath is not null ? Path.Combine(certPath, "ca.pem") : null,
                CertFile = verify && certPath is not null ? Path.Combine(certPath, "cert.pem") : null,
                KeyFile = verify && certPath is not null ? Path.Combine(certPath, "key.pem") : null,
            };
        }

        var context = options.Context ?? Environment.GetEnvironmentVariable("DOCKER_CONTEXT") ?? CurrentContext(dockerConfig);
        if (context is { Length: > 0 } and not "default" && dockerConfig is not null)
        {
            return FromContext(context, dockerConfig);
        }

        return DockerEndpoint.Default;
    }

    private static string? Existing(string path) => File.Exists(path) ? path : null;

    private static string? CurrentContext(string? dockerConfig)
    {
        var config = dockerConfig is null ? null : Path.Combine(dockerConfig, "config.json");
        if (config is null || !File.Exists(config))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(config));
            return document.RootElement.TryGetProperty("currentContext", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>A docker context: <c>contexts/meta/&lt;sha256(name)&gt;/meta.json</c> and <c>contexts/tls/&lt;sha256(name)&gt;/docker/</c>.</summary>
    private static DockerEndpoint FromContext(string name, string dockerConfig)
    {
        var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        var meta = Path.Combine(dockerConfig, "contexts", "meta", id, "meta.json");
        if (!File.Exists(meta))
        {
            throw new InvalidInputException($"docker context \"{name}\" does not exist ({meta} is missing)");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(meta));
            var docker = document.RootElement.GetProperty("Endpoints").GetProperty("docker");
            var host = docker.GetProperty("Host").GetString() ?? throw new InvalidInputException($"docker context \"{name}\" has no host");
            var skipVerify = docker.TryGetProperty("SkipTLSVerify", out var s) && s.ValueKind == JsonValueKind.True;
            var tlsDir = Path.Combine(dockerConfig, "contexts", "tls", id, "docker");
            var hasTls = Directory.Exists(tlsDir);
            return new DockerEndpoint(host, $"docker context \"{name}\"")
            {
                Tls = hasTls,
                TlsVerify = hasTls && !skipVerify,
                CaFile = hasTls ? Existing(Path.Combine(tlsDir, "ca.pem")) : null,
                CertFile = hasTls ? Existing(Path.Combine(tlsDir, "cert.pem")) : null,
                KeyFile = hasTls ? Existing(Path.Combine(tlsDir, "key.pem")) : null,
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidInputException($"docker context \"{name}\": {meta} is malformed: {ex.Message}");
        }
    }

    /// <summary>A docker-machine host: <c>$MACHINE_STORAGE_PATH/machines/NAME/config.json</c> (default <c>~/.docker/machine</c>), TLS on port 2376.</summary>
    private static DockerEndpoint FromMachine(string name)
    {
        if (name.IndexOfAny(['/', '\\']) >= 0 || name is "." or "..")
        {
            throw new InvalidInputException($"{name} (Machine) is not a machine name");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var storage = Environment.GetEnvironmentVariable("MACHINE_STORAGE_PATH") is { Length: > 0 } s ? s : Path.Combine(home, ".docker", "machine");
        var directory = Path.Combine(storage, "machines", name);
        var config = Path.Combine(directory, "config.json");
        if (!File.Exists(config))
        {
            throw new InvalidInputException($"docker-machine \"{name}\" does not exist ({config} is missing)");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(config));
            var root = document.RootElement;
            var ip = root.GetProperty("Driver").GetProperty("IPAddress").GetString();
            if (string.IsNullOrEmpty(ip))
            {
                throw new InvalidInputException($"docker-machine \"{name}\" has no IP address (is it running?)");
            }

            string Auth(string field, string fallback) =>
                root.TryGetProperty("HostOptions", out var h) && h.TryGetProperty("AuthOptions", out var a) && a.TryGetProperty(field, out var f) && f.GetString() is { Length: > 0 } value
                    ? value
                    : Path.Combine(directory, fallback);
            var port = root.TryGetProperty("Driver", out var driver) && driver.TryGetProperty("EnginePort", out var p) && p.TryGetInt32(out var enginePort) ? enginePort : 2376;
            return new DockerEndpoint($"tcp://{ip}:{port}", $"docker-machine \"{name}\"")
            {
                Tls = true,
                TlsVerify = true,
                CaFile = Auth("CaCertPath", "ca.pem"),
                CertFile = Auth("ClientCertPath", "cert.pem"),
                KeyFile = Auth("ClientKeyPath", "key.pem"),
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidInputException($"docker-machine \"{name}\": {config} is malformed: {ex.Message}");
        }
    }
}
