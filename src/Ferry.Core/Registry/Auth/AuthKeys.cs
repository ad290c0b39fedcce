namespace Ferry.Registry.Auth;

/// <summary>
/// How registries are named in credential files: Docker's <c>config.json</c> keys (a host, a URL, or Docker
/// Hub's legacy <c>https://index.docker.io/v1/</c>) and the containers <c>auth.json</c> keys, which may be
/// namespaced (<c>quay.io/team/app</c>).
/// </summary>
public static class AuthKeys
{
    /// <summary>The key and helper server URL under which Docker stores Docker Hub credentials.</summary>
    public const string DockerHubServerUrl = "https://index.docker.io/v1/";

    /// <summary>Normalises a file key: a URL loses its scheme and path; Docker Hub's aliases become <c>docker.io</c>; a bare key keeps its namespace path.</summary>
    /// <param name="key">The key as written in the file.</param>
    /// <returns>The normalised key, e.g. <c>docker.io</c>, <c>host:5000</c>, <c>quay.io/team</c>.</returns>
    public static string Normalize(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var value = key.Trim();
        var scheme = value.IndexOf("://", StringComparison.Ordinal);
        var path = string.Empty;
        if (scheme >= 0)
        {
            value = value[(scheme + 3)..];
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                value = value[..slash];
            }
        }
        else
        {
            var slash = value.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0)
            {
                path = value[slash..].TrimEnd('/');
                value = value[..slash];
            }
        }

        return NormalizeHost(value) + path;
    }

    /// <summary>Normalises a registry host: lower case, Docker Hub's aliases as <c>docker.io</c>.</summary>
    /// <param name="host">A host[:port].</param>
    /// <returns>The normalised host.</returns>
    public static string NormalizeHost(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var value = host.Trim().ToLowerInvariant();
        return value is "index.docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" ? "docker.io" : value;
    }

    /// <summary>The keys to try for a repository, most specific first: <c>host/a/b</c>, <c>host/a</c>, <c>host</c>.</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="repository">The repository path, or empty.</param>
    /// <returns>The keys in lookup order.</returns>
    public static IEnumerable<string> LookupOrder(string registry, string repository)
    {
        var host = NormalizeHost(registry);
        var path = repository.Trim('/');
        while (path.Length > 0)
        {
            yield return $"{host}/{path}";
            var slash = path.LastIndexOf('/');
            path = slash < 0 ? string.Empty : path[..slash];
        }

        yield return host;
    }

    /// <summary>The server address Docker uses for a registry in config.json keys and helper calls.</summary>
    /// <param name="registry">The registry host.</param>
    /// <returns><see cref="DockerHubServerUrl"/> for Docker Hub, else the host.</returns>
    public static string ServerAddress(string registry) => NormalizeHost(registry) == "docker.io" ? DockerHubServerUrl : NormalizeHost(registry);
}
