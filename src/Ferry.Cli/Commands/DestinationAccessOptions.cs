using System.CommandLine;
using Ferry.Errors;
using Ferry.Registry.Auth;

namespace Ferry.Cli.Commands;

/// <summary>
/// Credentials for a destination registry that are not the source's (skopeo's <c>--dest-creds</c>, <c>--dest-authfile</c>):
/// <c>--dest-username</c> with <c>--dest-password-stdin</c> or <c>--dest-password</c>, and <c>--dest-authfile</c>.
/// </summary>
internal sealed class DestinationAccessOptions
{
    public Option<string?> Username { get; } = new("--dest-username") { Description = "User for the destination registry (with --dest-password-stdin or --dest-password)" };

    public Option<bool> PasswordStdin { get; } = new("--dest-password-stdin") { Description = "Read the destination registry's password or token from stdin" };

    public Option<string?> Password { get; } = new("--dest-password") { Description = "The destination registry's password (insecure: prefer --dest-password-stdin)" };

    public Option<string?> AuthFile { get; } = new("--dest-authfile") { Description = "Credential file for the destination registry, in auth.json/config.json format" };

    public void AddTo(Command command)
    {
        command.Options.Add(Username);
        command.Options.Add(PasswordStdin);
        command.Options.Add(Password);
        command.Options.Add(AuthFile);
    }

    /// <summary>Whether any destination credential option was given.</summary>
    public bool Given(ParseResult parseResult) =>
        parseResult.GetValue(Username) is not null || parseResult.GetValue(PasswordStdin) || parseResult.GetValue(Password) is not null || parseResult.GetValue(AuthFile) is not null;

    /// <summary>The destination's credential sources, or <see langword="null"/> when none was given.</summary>
    public CredentialSources? Sources(ParseResult parseResult, string registry, bool sourceReadsStdin)
    {
        if (!Given(parseResult))
        {
            return null;
        }

        var username = parseResult.GetValue(Username);
        var password = parseResult.GetValue(Password);
        var stdin = parseResult.GetValue(PasswordStdin);
        if (stdin && sourceReadsStdin)
        {
            throw new InvalidInputException("--password-stdin and --dest-password-stdin cannot both read stdin; put one of them in a credential file (--authfile, --dest-authfile)");
        }

        password = RegistryAccessOptions.PasswordGiven(password, stdin, "--dest-password", "--dest-password-stdin");

        if ((username is null) != (password is null))
        {
            throw new InvalidInputException(username is null ? "a destination password was given without --dest-username" : "--dest-username needs --dest-password-stdin (or --dest-password)");
        }

        if (username is { Length: 0 })
        {
            throw new InvalidInputException("the destination user name is empty");
        }

        var explicitCredential = username is null ? null : new RegistryCredential(username, password!) { Source = "the command line (--dest-username)" };
        var authFile = parseResult.GetValue(AuthFile);
        if (authFile is not null && !File.Exists(authFile))
        {
            throw new InvalidInputException($"--dest-authfile {authFile} does not exist");
        }

        return CredentialSources.FromEnvironment(authFile) with { ExplicitCredential = explicitCredential, ExplicitRegistry = registry };
    }
}
