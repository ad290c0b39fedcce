using System.CommandLine;
using Ferry.Cli.Input;
using Ferry.Cli.Output;
using Ferry.Errors;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry login</c> and <c>ferry logout</c>: check and store credentials the way <c>docker login</c> does.</summary>
internal static class LoginCommands
{
    public static Command CreateLogin()
    {
        var registryArgument = new Argument<string?>("registry") { Arity = ArgumentArity.ZeroOrOne, Description = "Registry host[:port] (default: docker.io)" };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var access = new RegistryAccessOptions();
        var command = new Command("login", """
            Check credentials against a registry and store them as docker login does.

            They go into the configured credential
            helper (credHelpers / credsStore), else in ~/.docker/config.json (mode 0600), or in --authfile.

            Examples:
              echo "$TOKEN" | ferry login registry.internal:5000 -u ci --password-stdin
              ferry login ghcr.io -u alice          # prompts for the password without echo
            """)
        {
            registryArgument, access.Username, access.PasswordStdin, access.Password, access.AuthFile, access.CertDir, access.TlsVerify, access.Insecure, access.PlainHttp, access.Retries, access.RetryDelay, debug,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            try
            {
                var registry = RegistryName(parseResult.GetValue(registryArgument));
                var username = parseResult.GetValue(access.Username) ?? TerminalPrompt.ReadLine("Username: ", "ferry login without -u");
                var credential = parseResult.GetValue(access.PasswordStdin) || parseResult.GetValue(access.Password) is not null
                    ? access.ExplicitCredential(parseResult, registry)!
                    : new RegistryCredential(username, TerminalPrompt.ReadSecret("Password: ", "ferry login without --password-stdin")) { Source = "the terminal" };
                if (credential.Username != username)
                {
                    credential = credential with { Username = username };
                }

                if (credential.Username.Length == 0 || credential.Password.Length == 0)
                {
                    throw new InvalidInputException("user name and password must not be empty");
                }

                var logger = new StderrLogger(isDebug ? LogLevel.Debug : LogLevel.Warning);
                using var client = new RegistryClient(AnonymousCredentialProvider.Instance, access.ClientOptions(parseResult), logger);
                await client.CheckCredentialsAsync(registry, credential, cancellationToken).ConfigureAwait(false);
                var store = new CredentialStore(StorePath(parseResult, access));
                var where = await store.StoreAsync(registry, credential, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"ferry: login succeeded for {credential.Username} at {registry}; credentials stored in {where}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug, OutputMode.Text);
            }
        });
        return command;
    }

    public static Command CreateLogout()
    {
        var registryArgument = new Argument<string?>("registry") { Arity = ArgumentArity.ZeroOrOne, Description = "Registry host[:port] (default: docker.io)" };
        var access = new RegistryAccessOptions();
        var command = new Command("logout", """
            Remove stored credentials for a registry (from the credential helper and the config file).

            Example:
              ferry logout registry.internal:5000
            """)
        {
            registryArgument, access.AuthFile,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var registry = RegistryName(parseResult.GetValue(registryArgument));
                var store = new CredentialStore(StorePath(parseResult, access));
                var removed = await store.EraseAsync(registry, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine(removed ? $"ferry: removed login credentials for {registry}" : $"ferry: not logged in to {registry}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false, OutputMode.Text);
            }
        });
        return command;
    }

    /// <summary><c>https://host:5000/v2/</c>, <c>host:5000</c> → <c>host:5000</c>; nothing → <c>docker.io</c>.</summary>
    private static string RegistryName(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "docker.io";
        }

        var name = AuthKeys.Normalize(value);
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            name = name[..slash];
        }

        if (name.Length == 0 || name.Any(c => char.IsWhiteSpace(c) || c is '@' or '?' or '#'))
        {
            throw new InvalidInputException($"'{value}' is not a registry host[:port]");
        }

        return name;
    }

    private static string StorePath(ParseResult parseResult, RegistryAccessOptions access) =>
        parseResult.GetValue(access.AuthFile)
        ?? CredentialSources.DefaultDockerConfigPath()
        ?? throw new InvalidInputException("no home directory and no DOCKER_CONFIG: name the credential file with --authfile");
}
