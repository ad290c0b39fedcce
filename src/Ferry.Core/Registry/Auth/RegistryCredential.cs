namespace Ferry.Registry.Auth;

/// <summary>Credentials for one registry. <see cref="ToString"/> never reveals the secret.</summary>
/// <param name="Username">The user name (may be empty with an identity token).</param>
/// <param name="Password">The password or personal access token.</param>
/// <param name="IdentityToken">An OAuth2 refresh token (config.json <c>identitytoken</c>), if any.</param>
public sealed record RegistryCredential(string Username, string Password, string? IdentityToken = null)
{
    /// <summary>A redacted description.</summary>
    /// <returns>The user name with the secret hidden.</returns>
    public override string ToString() => $"{Username}:***";
}

/// <summary>Finds credentials for a registry host.</summary>
public interface ICredentialProvider
{
    /// <summary>Looks up the credentials for <paramref name="registry"/>.</summary>
    /// <param name="registry">The registry as in a reference, e.g. <c>docker.io</c> or <c>host:5000</c>.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The credentials, or <see langword="null"/> for anonymous access.</returns>
    ValueTask<RegistryCredential?> GetAsync(string registry, CancellationToken cancellationToken = default);
}

/// <summary>Always anonymous.</summary>
public sealed class AnonymousCredentialProvider : ICredentialProvider
{
    /// <summary>The shared instance.</summary>
    public static AnonymousCredentialProvider Instance { get; } = new();

    /// <inheritdoc />
    public ValueTask<RegistryCredential?> GetAsync(string registry, CancellationToken cancellationToken = default) => ValueTask.FromResult<RegistryCredential?>(null);
}
