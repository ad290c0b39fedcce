namespace Ferry.Registry.Auth;

/// <summary>
/// Where <see cref="DefaultCredentialProvider"/> looks for credentials. <see cref="FromEnvironment"/> gives the
/// locations Docker and the containers tools use.
/// </summary>
public sealed record CredentialSources
{
    /// <summary>Credentials given explicitly (<c>--username</c> + <c>--password-stdin</c>, <c>--ilogin</c>).</summary>
    public RegistryCredential? ExplicitCredential { get; init; }

    /// <summary>The only registry the explicit credentials are sent to.</summary>
    public string? ExplicitRegistry { get; init; }

    /// <summary>Credentials for named registries (a bundle file's <c>credentials:</c>), after the explicit one and before any file.</summary>
    public IReadOnlyDictionary<string, RegistryCredential> PerRegistry { get; init; } = new Dictionary<string, RegistryCredential>();

    /// <summary>An auth file named by the user (<c>--authfile</c>, else <c>REGISTRY_AUTH_FILE</c>); consulted before Docker's config.</summary>
    public string? AuthFile { get; init; }

    /// <summary>Docker's config file (<c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>).</summary>
    public string? DockerConfig { get; init; }

    /// <summary>The containers tools' auth files, in order (<c>$XDG_RUNTIME_DIR/containers/auth.json</c>, then <c>$XDG_CONFIG_HOME/containers/auth.json</c>).</summary>
    public IReadOnlyList<string> ContainersAuthFiles { get; init; } = [];

    /// <summary>How long a credential helper may take per call.</summary>
    public TimeSpan HelperTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The default locations, from the environment of this process.</summary>
    /// <param name="authFile">An explicit auth file (<c>--authfile</c>); <c>REGISTRY_AUTH_FILE</c> when <see langword="null"/>.</param>
    /// <returns>The sources.</returns>
    public static CredentialSources FromEnvironment(string? authFile = null)
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var containers = new List<string>();
        if (Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime)
        {
            containers.Add(Path.Combine(runtime, "containers", "auth.json"));
        }

        var configHome = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg : home.Length > 0 ? Path.Combine(home, ".config") : null;
        if (configHome is not null)
        {
            containers.Add(Path.Combine(configHome, "containers", "auth.json"));
        }

        return new CredentialSources
        {
            AuthFile = authFile ?? (Environment.GetEnvironmentVariable("REGISTRY_AUTH_FILE") is { Length: > 0 } env ? env : null),
            DockerConfig = DefaultDockerConfigPath(),
            ContainersAuthFiles = containers,
        };
    }

    /// <summary>The path of Docker's config file as the docker CLI resolves it.</summary>
    /// <returns>The path, or <see langword="null"/> without a home directory and <c>DOCKER_CONFIG</c>.</returns>
    public static string? DefaultDockerConfigPath()
    {
        if (Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } dir)
        {
            return Path.Combine(dir, "config.json");
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return home.Length == 0 ? null : Path.Combine(home, ".docker", "config.json");
    }
}
