using System.Text;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Registry.Auth;

/// <summary>
/// Reads the <c>auths</c> section of Docker's <c>config.json</c> (<c>$DOCKER_CONFIG/config.json</c>, else
/// <c>~/.docker/config.json</c>): the base64 <c>auth</c> field (<c>user:password</c>) and
/// <c>identitytoken</c>. Keys may be a bare host, a URL, or Docker Hub's legacy
/// <c>https://index.docker.io/v1/</c>.
/// </summary>
public sealed class DockerConfigCredentialProvider : ICredentialProvider
{
    private readonly string? _configPath;
    private readonly Lazy<IReadOnlyDictionary<string, RegistryCredential>> _entries;

    /// <summary>Creates the provider for a given config file.</summary>
    /// <param name="configPath">The path to <c>config.json</c>; <see langword="null"/> for Docker's default location.</param>
    public DockerConfigCredentialProvider(string? configPath = null)
    {
        _configPath = configPath ?? DefaultConfigPath();
        _entries = new Lazy<IReadOnlyDictionary<string, RegistryCredential>>(Load);
    }

    /// <summary>The path of Docker's config file as the docker CLI resolves it.</summary>
    /// <returns>The path, or <see langword="null"/> when there is no home directory.</returns>
    public static string? DefaultConfigPath()
    {
        var dir = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
        if (string.IsNullOrEmpty(dir))
        {
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(home))
            {
                return null;
            }

            dir = Path.Combine(home, ".docker");
        }

        return Path.Combine(dir, "config.json");
    }

    /// <inheritdoc />
    public ValueTask<RegistryCredential?> GetAsync(string registry, CancellationToken cancellationToken = default)
    {
        var key = NormalizeKey(registry);
        return ValueTask.FromResult(_entries.Value.TryGetValue(key, out var credential) ? credential : null);
    }

    /// <summary>Normalises a config.json key or registry name to a host[:port].</summary>
    /// <param name="key">The key, e.g. <c>https://index.docker.io/v1/</c>.</param>
    /// <returns>The host, Docker Hub as <c>docker.io</c>.</returns>
    internal static string NormalizeKey(string key)
    {
        var host = key.Trim();
        var scheme = host.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            host = host[(scheme + 3)..];
        }

        var slash = host.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            host = host[..slash];
        }

        host = host.ToLowerInvariant();
        return host is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" ? "docker.io" : host;
    }

    /// <summary>Parses the <c>auths</c> of a config.json document.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="source">The file name, for error messages.</param>
    /// <returns>Credentials keyed by normalised host.</returns>
    /// <exception cref="InvalidInputException">The file is not valid JSON or an <c>auth</c> field is malformed.</exception>
    internal static Dictionary<string, RegistryCredential> Parse(ReadOnlySpan<byte> json, string source)
    {
        var result = new Dictionary<string, RegistryCredential>(StringComparer.Ordinal);
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{source} is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object ||
                !document.RootElement.TryGetProperty("auths", out var auths) || auths.ValueKind != JsonValueKind.Object)
            {
                return result;
            }

            foreach (var entry in auths.EnumerateObject())
            {
                if (entry.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                string? Field(string name) => entry.Value.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var identityToken = Field("identitytoken");
                var username = Field("username") ?? string.Empty;
                var password = Field("password") ?? string.Empty;
                var auth = Field("auth");
                if (!string.IsNullOrEmpty(auth))
                {
                    string decoded;
                    try
                    {
                        decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
                    }
                    catch (FormatException)
                    {
                        throw new InvalidInputException($"{source}: the \"auth\" field for {entry.Name} is not valid base64");
                    }

                    var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                    if (colon < 0)
                    {
                        throw new InvalidInputException($"{source}: the \"auth\" field for {entry.Name} is not user:password");
                    }

                    username = decoded[..colon];
                    password = decoded[(colon + 1)..];
                }

                if (username.Length == 0 && password.Length == 0 && string.IsNullOrEmpty(identityToken))
                {
                    continue;
                }

                result[NormalizeKey(entry.Name)] = new RegistryCredential(username, password, string.IsNullOrEmpty(identityToken) ? null : identityToken);
            }
        }

        return result;
    }

    private Dictionary<string, RegistryCredential> Load()
    {
        if (_configPath is null || !File.Exists(_configPath))
        {
            return new Dictionary<string, RegistryCredential>(StringComparer.Ordinal);
        }

        return Parse(File.ReadAllBytes(_configPath), _configPath);
    }
}
