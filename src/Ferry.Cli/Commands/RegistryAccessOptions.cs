using System.CommandLine;
using Ferry.Cli.Input;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;

namespace Ferry.Cli.Commands;

/// <summary>The credential, TLS and retry options every command that talks to registries shares.</summary>
internal sealed class RegistryAccessOptions
{
    public Option<string?> Username { get; } = new("--username", "-u") { Description = "User for the registry (with --password-stdin, or prompted for on a terminal)" };

    public Option<bool> PasswordStdin { get; } = new("--password-stdin") { Description = "Read the password or token from stdin" };

    public Option<string?> Password { get; } = new("--password") { Description = "The password (insecure: it lands in shell history and ps; prefer --password-stdin)" };

    public Option<bool> InteractiveLogin { get; } = new("--ilogin") { Description = "Prompt for user and password on the terminal (no echo)" };

    public Option<string?> AuthFile { get; } = new("--authfile") { Description = "Credential file read first (default: $REGISTRY_AUTH_FILE), in auth.json/config.json format" };

    public Option<string?> CertDir { get; } = new("--cert-dir") { Description = "Directory with *.crt CAs and *.cert/*.key client pairs (files apply to every registry, <host[:port]>/ subdirectories to one)" };

    public Option<bool> TlsVerify { get; } = new("--tls-verify") { Description = "Verify TLS certificates (default true; --tls-verify=false skips it, with a warning)", DefaultValueFactory = _ => true };

    public Option<bool> Insecure { get; } = new("--insecure") { Description = "Treat registries as insecure: no certificate verification, plain HTTP when HTTPS fails" };

    public Option<bool> PlainHttp { get; } = new("--plain-http") { Description = "Talk plain HTTP to the registry (loopback registries fall back to HTTP by themselves)" };

    public Option<int> Retries { get; } = new("--retries") { Description = "Retries per request on connection errors, 408, 429 and 5xx (0-20)", DefaultValueFactory = _ => 4 };

    public Option<double> RetryDelay { get; } = new("--retry-delay") { Description = "First retry delay in seconds; doubles per retry, with jitter", DefaultValueFactory = _ => 1.0 };

    public Option<double> Timeout { get; } = new("--timeout") { Description = "Seconds a registry may stay silent (before answering, or mid-download) before the request is retried or resumed (1-3600)", DefaultValueFactory = _ => 60 };

    public IEnumerable<Option> All(bool withCredentials) =>
        withCredentials
            ? [Username, PasswordStdin, Password, InteractiveLogin, AuthFile, CertDir, TlsVerify, Insecure, PlainHttp, Retries, RetryDelay, Timeout]
            : [AuthFile, CertDir, TlsVerify, Insecure, PlainHttp, Retries, RetryDelay, Timeout];

    public void AddTo(Command command, bool withCredentials = true)
    {
        foreach (var option in All(withCredentials))
        {
            command.Options.Add(option);
        }
    }

    public RegistryClientOptions ClientOptions(ParseResult parseResult, int maxConnectionsPerServer = 32)
    {
        var retries = parseResult.GetValue(Retries);
        var delay = parseResult.GetValue(RetryDelay);
        if (retries is < 0 or > 20)
        {
            throw new InvalidInputException($"--retries must be between 0 and 20, not {retries}");
        }

        if (delay is < 0 or > 300 || double.IsNaN(delay))
        {
            throw new InvalidInputException($"--retry-delay must be between 0 and 300 seconds, not {delay}");
        }

        // Commands that take only some of these options (login) get the default.
        var timeout = parseResult.GetResult(Timeout) is null ? 60 : parseResult.GetValue(Timeout);
        if (timeout is < 1 or > 3600 || double.IsNaN(timeout))
        {
            throw new InvalidInputException($"--timeout must be between 1 and 3600 seconds, not {timeout}");
        }

        if (parseResult.GetValue(CertDir) is { } certDir && !Directory.Exists(certDir))
        {
            throw new InvalidInputException($"--cert-dir {certDir} does not exist");
        }

        var tlsVerify = parseResult.GetValue(TlsVerify);
        if (!tlsVerify || parseResult.GetValue(Insecure))
        {
            Console.Error.WriteLine("ferry: warning: TLS certificates will not be verified; anyone on the network path can read and alter the transfer");
        }

        return new RegistryClientOptions
        {
            PlainHttp = parseResult.GetValue(PlainHttp),
            Insecure = parseResult.GetValue(Insecure),
            TlsVerify = tlsVerify,
            CertDirectory = parseResult.GetValue(CertDir),
            Retries = retries,
            RetryDelay = TimeSpan.FromSeconds(delay),
            MaxConnectionsPerServer = maxConnectionsPerServer,
            IdleTimeout = TimeSpan.FromSeconds(timeout),
        };
    }

    /// <summary>Whether the credential options ask to read stdin.</summary>
    public bool ReadsStdin(ParseResult parseResult) => parseResult.GetValue(PasswordStdin);

    /// <summary>The registry explicit credentials (<c>-u</c>, <c>--ilogin</c>) belong to: <c>-s</c> when given, else the first image's, else Docker Hub.</summary>
    /// <param name="sourceRegistry">The <c>--source-registry</c> value.</param>
    /// <param name="references">The registry references of the run, as written.</param>
    /// <returns>The registry host.</returns>
    public static string CredentialRegistry(string? sourceRegistry, IEnumerable<string> references) =>
        sourceRegistry ?? references.Select(l => ImageReference.TryParse(l.Trim(), out var r, out _) ? r!.Registry : null).FirstOrDefault(r => r is not null) ?? "docker.io";

    /// <summary>
    /// The explicit credential from the flags (reading stdin or prompting as asked), or <see langword="null"/>.
    /// </summary>
    public RegistryCredential? ExplicitCredential(ParseResult parseResult, string registry)
    {
        var username = parseResult.GetValue(Username);
        var stdin = parseResult.GetValue(PasswordStdin);
        var password = parseResult.GetValue(Password);
        if (parseResult.GetValue(InteractiveLogin))
        {
            if (stdin || password is not null)
            {
                throw new InvalidInputException("--ilogin prompts for the password; do not combine it with --password-stdin or --password");
            }

            username ??= TerminalPrompt.ReadLine($"Username for {registry}: ", "--ilogin");
            password = TerminalPrompt.ReadSecret($"Password for {username}@{registry}: ", "--ilogin");
            return Credential(username, password);
        }

        password = PasswordGiven(password, stdin, "--password", "--password-stdin");
        if (password is null)
        {
            return username is null ? null : throw new InvalidInputException("--username needs --password-stdin (or --ilogin to be prompted)");
        }

        if (username is null)
        {
            throw new InvalidInputException("a password was given without --username");
        }

        return Credential(username, password);
    }

    public CredentialSources Sources(ParseResult parseResult, RegistryCredential? explicitCredential, string? explicitRegistry) =>
        CredentialSources.FromEnvironment(parseResult.GetValue(AuthFile)) with
        {
            ExplicitCredential = explicitCredential,
            ExplicitRegistry = explicitRegistry,
        };

    /// <summary>
    /// The password given on the command line or on stdin (never both; a command-line one is warned about), or
    /// <see langword="null"/>; shared by the source's flags and the destination's (<c>--dest-password…</c>).
    /// </summary>
    internal static string? PasswordGiven(string? password, bool stdin, string passwordFlag, string stdinFlag)
    {
        if (stdin && password is not null)
        {
            throw new InvalidInputException($"{passwordFlag} and {stdinFlag} are mutually exclusive");
        }

        if (password is not null)
        {
            Console.Error.WriteLine($"ferry: warning: using {passwordFlag} on the command line is insecure (shell history, ps); use {stdinFlag}");
        }

        return stdin ? TerminalPrompt.ReadSecretFromStdin() : password;
    }

    private static RegistryCredential Credential(string username, string password)
    {
        if (username.Length == 0)
        {
            throw new InvalidInputException("the user name is empty");
        }

        return new RegistryCredential(username, password) { Source = "the command line" };
    }
}
