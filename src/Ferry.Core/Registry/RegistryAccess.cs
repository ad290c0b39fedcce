using Ferry.Registry.Auth;

namespace Ferry.Registry;

/// <summary>How the library reaches registries: where credentials come from, and the client's settings.</summary>
/// <param name="Credentials">The credential provider.</param>
/// <param name="Options">TLS, retries, limits.</param>
public sealed record RegistryAccess(ICredentialProvider Credentials, RegistryClientOptions Options)
{
    /// <summary>As the CLI without flags: Docker's and the containers tools' credential files, default TLS and retries.</summary>
    public static RegistryAccess Default => new(new DefaultCredentialProvider(), new RegistryClientOptions());
}
