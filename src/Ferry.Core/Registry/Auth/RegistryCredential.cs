namespace Ferry.Registry.Auth;

/// <summary>Credentials for one registry. <see cref="ToString"/> never reveals the secret.</summary>
/// <param name="Username">The user name (may be empty with an identity token).</param>
/// <param name="Password">The password or personal access token.</param>
/// <param name="IdentityToken">An OAuth2 refresh token (config.json <c>identitytoken</c>, or a helper's <c>&lt;token&gt;</c> user), if any.</param>
public sealed record RegistryCredential(string Username, string Password, string? IdentityToken = null)
{
    /// <summary>Where the credential was found, for messages (e.g. <c>~/.docker/config.json</c>); never part of the secret.</summary>
    public string Source { get; init; } = "explicit";

    /// <summary>A redacted description.</summary>
    /// <returns>The user name with the secret hidden.</returns>
    public override string ToString() => $"{Username}:*** (from {Source})";
}

/// <summary>Finds credentials for a registry host.</summary>
public interface ICredentialProvider
{
    /// <summary>Looks up the credentials for a repository of a registry.</summary>
    /// <param name="registry">The registry as in a reference, e.g. <c>docker.io</c> or <c>host:5000</c>.</param>
    /// <param name="repository">The repository path (e.g. <c>library/nginx</c>), for namespaced auth.json keys; empty for the registry as a whole.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The credentials, or <see langword="null"/> for anonymous access.</returns>
    /// <exception cref="Errors.CredentialHelperException">A configured credential helper cannot run.</exception>
    ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken = default);
}

/// <summary>Always anonymous.</summary>
public sealed class AnonymousCredentialProvider : ICredentialProvider
{
    /// <summary>The shared instance.</summary>
    public static AnonymousCredentialProvider Instance { get; } = new();

    /// <inheritdoc />
    public ValueTask<RegistryCredential?> GetAsync(string registry, string repository, CancellationToken cancellationToken = default) => ValueTask.FromResult<RegistryCredential?>(null);
}
