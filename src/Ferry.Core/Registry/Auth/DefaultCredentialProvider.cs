using System.Collections.Concurrent;

namespace Ferry.Registry.Auth;

/// <summary>
/// Finds credentials the way Docker users already keep them. Precedence, first match wins:
/// <list type="number">
/// <item>explicit credentials, for their one registry;</item>
/// <item>the user's auth file (<c>--authfile</c> / <c>REGISTRY_AUTH_FILE</c>);</item>
/// <item>Docker's <c>config.json</c>: <c>credHelpers[host]</c>, else <c>credsStore</c>, then <c>auths</c>;</item>
/// <item>the containers tools' <c>auth.json</c> files.</item>
/// </list>
/// In every file the most specific key wins (<c>host/ns/repo</c> before <c>host</c>). A configured helper that
/// cannot run is an error, never a silent fall-back. Results are cached per registry and repository.
/// </summary>
public sealed class DefaultCredentialProvider : ICredentialProvider
{
    private readonly CredentialSources _sources;
    private readonly Lazy<IReadOnlyList<AuthFile>> _files;
    private readonly ConcurrentDictionary<(string Registry, string Repository), Lazy<Task<RegistryCredential?>>> _cache = new();

    /// <summary>Creates the provider.</summary>
    /// <param name="sources">Where to look; <see cref="CredentialSources.FromEnvironment"/> when <see langword="null"/>.</param>
    public DefaultCredentialProvider(CredentialSources? sources = null)
    {
        _sources = sources ?? CredentialSources.FromEnvironment();
        _files = new Lazy<IReadOnlyList<AuthFile>>(LoadFiles);
    }

    /// <inheritdoc />
    public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var key = (AuthKeys.NormalizeHost(registry), repository ?? string.Empty);
        var lookup = _cache.GetOrAdd(key, k => new Lazy<Task<RegistryCredential?>>(() => LookUpAsync(k.Registry, k.Repository, CancellationToken.None)));
        var task = lookup.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            _cache.TryRemove(key, out _);
        }

        return new ValueTask<RegistryCredential?>(task.WaitAsync(cancellationToken));
    }

    private async Task<RegistryCredential?> LookUpAsync(string registry, string repository, CancellationToken cancellationToken)
    {
        if (_sources.ExplicitCredential is { } explicitCredential && _sources.ExplicitRegistry is { } explicitRegistry &&
            AuthKeys.NormalizeHost(explicitRegistry) == registry)
        {
            return explicitCredential;
        }

        foreach (var (name, credential) in _sources.PerRegistry)
        {
            if (AuthKeys.NormalizeHost(name) == registry)
            {
                return credential;
            }
        }

        foreach (var file in _files.Value)
        {
            if (file.HelperFor(registry) is { } suffix)
            {
                var helper = new CredentialHelper(suffix, file.Path, _sources.HelperTimeout);
                if (await helper.GetAsync(AuthKeys.ServerAddress(registry), cancellationToken).ConfigureAwait(false) is { } fromHelper)
                {
                    return fromHelper;
                }
            }

            if (file.Find(registry, repository) is { } fromFile)
            {
                return fromFile;
            }
        }

        return null;
    }

    private List<AuthFile> LoadFiles()
    {
        var paths = new List<string>();
        if (_sources.AuthFile is { } authFile)
        {
            paths.Add(authFile);
        }

        if (_sources.DockerConfig is { } dockerConfig)
        {
            paths.Add(dockerConfig);
        }

        paths.AddRange(_sources.ContainersAuthFiles);
        return paths.Distinct(StringComparer.Ordinal).Select(AuthFile.Load).ToList();
    }
}
