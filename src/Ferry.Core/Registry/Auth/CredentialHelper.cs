using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Registry.Auth;

/// <summary>
/// A Docker credential helper (<c>docker-credential-SUFFIX</c>), spoken to with the helper protocol: the action
/// as the only argument, the request on stdin, the answer on stdout. Secrets travel on stdin/stdout only,
/// never on the command line; the helper's output is never logged.
/// </summary>
public sealed class CredentialHelper
{
    private const string NotFoundMessage = "credentials not found in native keychain";
    private const string TokenUsername = "<token>";
    private readonly TimeSpan _timeout;

    /// <summary>Creates a client for one helper.</summary>
    /// <param name="suffix">The suffix, e.g. <c>pass</c> for <c>docker-credential-pass</c>.</param>
    /// <param name="configuredIn">Where it was configured, for messages.</param>
    /// <param name="timeout">How long one call may take (default 30 s).</param>
    /// <exception cref="CredentialHelperException">The suffix is empty or contains a path separator.</exception>
    public CredentialHelper(string suffix, string configuredIn, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(suffix);
        if (suffix.Length == 0 || suffix.IndexOfAny(['/', '\\', '\0']) >= 0 || suffix is "." or "..")
        {
            throw new CredentialHelperException($"credential helper name \"{suffix}\" in {configuredIn} is not valid");
        }

        Suffix = suffix;
        ConfiguredIn = configuredIn;
        _timeout = timeout ?? TimeSpan.FromSeconds(30);
    }

    /// <summary>The helper suffix.</summary>
    public string Suffix { get; }

    /// <summary>Where the helper was configured.</summary>
    public string ConfiguredIn { get; }

    /// <summary>The program name, <c>docker-credential-SUFFIX</c>.</summary>
    public string Program => "docker-credential-" + Suffix;

    /// <summary>Gets the credentials stored for a server.</summary>
    /// <param name="serverAddress">The server address (see <see cref="AuthKeys.ServerAddress"/>).</param>
    /// <param name="cancellationToken">Cancels the call (the helper is killed).</param>
    /// <returns>The credentials, or <see langword="null"/> when the helper has none.</returns>
    /// <exception cref="CredentialHelperException">The helper cannot run, fails, or answers malformed JSON.</exception>
    public async Task<RegistryCredential?> GetAsync(string serverAddress, CancellationToken cancellationToken = default)
    {
        var (exitCode, stdout) = await RunAsync("get", serverAddress, serverAddress, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            if (stdout.Contains(NotFoundMessage, StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            throw Failure("get", serverAddress, exitCode, stdout);
        }

        try
        {
            using var document = JsonDocument.Parse(stdout);
            var root = document.RootElement;
            string Field(string name) => root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? string.Empty : string.Empty;
            var username = Field("Username");
            var secret = Field("Secret");
            if (secret.Length == 0)
            {
                return null;
            }

            var source = $"{Program} ({ConfiguredIn})";
            return username == TokenUsername
                ? new RegistryCredential(string.Empty, string.Empty, secret) { Source = source }
                : new RegistryCredential(username, secret) { Source = source };
        }
        catch (JsonException)
        {
            throw new CredentialHelperException($"credential helper {Program} (configured in {ConfiguredIn}) answered 'get' for {serverAddress} with malformed JSON");
        }
    }

    /// <summary>Stores credentials for a server.</summary>
    /// <param name="serverAddress">The server address.</param>
    /// <param name="credential">What to store; an identity token is stored with the user <c>&lt;token&gt;</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    /// <exception cref="CredentialHelperException">The helper cannot run or fails.</exception>
    public async Task StoreAsync(string serverAddress, RegistryCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var payload = JsonSerializer.Serialize(
            new HelperCredential(serverAddress, credential.IdentityToken is null ? credential.Username : TokenUsername, credential.IdentityToken ?? credential.Password),
            AuthJsonContext.Default.HelperCredential);
        var (exitCode, stdout) = await RunAsync("store", payload, serverAddress, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw Failure("store", serverAddress, exitCode, stdout);
        }
    }

    /// <summary>Erases the credentials of a server; absent credentials are not an error.</summary>
    /// <param name="serverAddress">The server address.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when something was erased.</returns>
    /// <exception cref="CredentialHelperException">The helper cannot run or fails.</exception>
    public async Task<bool> EraseAsync(string serverAddress, CancellationToken cancellationToken = default)
    {
        var (exitCode, stdout) = await RunAsync("erase", serverAddress, serverAddress, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            if (stdout.Contains(NotFoundMessage, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }

            throw Failure("erase", serverAddress, exitCode, stdout);
        }

        return true;
    }

    private CredentialHelperException Failure(string action, string serverAddress, int exitCode, string stdout)
    {
        // The helper's stdout carries its error text on failure; one line of it is safe to show (no secret is sent back on failure).
        var reason = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";
        if (reason.Length > 200)
        {
            reason = reason[..200];
        }

        return new CredentialHelperException($"credential helper {Program} (configured in {ConfiguredIn}) failed to {action} credentials for {serverAddress}: exit {exitCode}: {reason}");
    }

    private async Task<(int ExitCode, string Stdout)> RunAsync(string action, string input, string serverAddress, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Program)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false, // the helper's own messages reach the user, as with docker
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(action);
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CredentialHelperException($"credential helper {Program} (configured in {ConfiguredIn}) did not start");
        }
        catch (Win32Exception ex)
        {
            throw new CredentialHelperException($"credential helper {Program} (configured in {ConfiguredIn} for {serverAddress}) cannot run: {ex.Message}; install it or remove it from the configuration", ex);
        }

        using (process)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_timeout);
            try
            {
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                try
                {
                    await process.StandardInput.WriteAsync(input.AsMemory(), timeout.Token).ConfigureAwait(false);
                    process.StandardInput.Close();
                }
                catch (IOException)
                {
                    // The helper exited without reading its input; its exit code tells the rest.
                }

                var stdout = await output.ConfigureAwait(false);
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                return (process.ExitCode, stdout);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new CredentialHelperException($"credential helper {Program} (configured in {ConfiguredIn}) did not answer '{action}' for {serverAddress} within {_timeout.TotalSeconds:0} s");
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }
        }
    }
}

/// <summary>The helper protocol's credential document.</summary>
/// <param name="ServerURL">The server address.</param>
/// <param name="Username">The user, or <c>&lt;token&gt;</c>.</param>
/// <param name="Secret">The password or identity token.</param>
internal sealed record HelperCredential(string ServerURL, string Username, string Secret);
