using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary><c>ferry login</c>/<c>logout</c> against the real registry (TLS + htpasswd, and plain + htpasswd), and --ilogin on a real pseudo-terminal.</summary>
public sealed class LoginTests(SecureRegistries env) : IClassFixture<SecureRegistries>
{
    [Fact]
    public async Task Login_PasswordStdin_ChecksStoresIn0600ConfigAndSaveThenLogoutUseIt()
    {
        var environment = env.CleanEnvironment();
        var certDir = env.Scratch("login-certs");
        env.Certificates.CertsDirectory(certDir, env.Tls.Host, withClientCertificate: false);
        var login = await FerryCli.RunAsync(environment, SecureRegistries.Password + "\n", "login", env.Tls.Host, "-u", SecureRegistries.User, "--password-stdin", "--cert-dir", certDir);
        Assert.True(login.ExitCode == 0, login.StandardError);
        Assert.Contains("login succeeded", login.StandardError, StringComparison.Ordinal);

        var config = Path.Combine(environment["DOCKER_CONFIG"], "config.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        var auths = JsonNode.Parse(await File.ReadAllTextAsync(config))!["auths"]!.AsObject();
        Assert.True(auths.ContainsKey(env.Tls.Host));

        var output = Path.Combine(env.Scratch("login-out"), "app.tar");
        var save = await FerryCli.RunAsync(environment, null, "save", "--cert-dir", certDir, "-o", output, $"{env.Tls.Host}/{SecureRegistries.Repository}:1");
        Assert.True(save.ExitCode == 0, save.StandardError);

        var logout = await FerryCli.RunAsync(environment, null, "logout", env.Tls.Host);
        Assert.Equal(0, logout.ExitCode);
        Assert.Contains("removed login credentials", logout.StandardError, StringComparison.Ordinal);
        var again = await FerryCli.RunAsync(environment, null, "save", "--cert-dir", certDir, "-o", output + "2", $"{env.Tls.Host}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("requires a user name and password", again.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Login_WrongPassword_FailsAndStoresNothing()
    {
        var environment = env.CleanEnvironment();
        var result = await FerryCli.RunAsync(environment, "not-the-password", "login", env.Basic.Host, "-u", SecureRegistries.User, "--password-stdin");
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"refused the credentials for user \"{SecureRegistries.User}\"", line, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(environment["DOCKER_CONFIG"], "config.json")));
    }

    [Fact]
    public async Task Login_WithCredsStore_KeepsTheSecretInTheHelperAndSaveReadsItBack()
    {
        var helper = new FakeCredentialHelper(env.Scratch("helper"), "ferrytest");
        var environment = env.CleanEnvironment("""{"credsStore":"ferrytest"}""");
        environment["PATH"] = helper.SearchPath;
        var login = await FerryCli.RunAsync(environment, SecureRegistries.Password, "login", env.Basic.Host, "-u", SecureRegistries.User, "--password-stdin");
        Assert.True(login.ExitCode == 0, login.StandardError);
        Assert.Contains("docker-credential-ferrytest", login.StandardError, StringComparison.Ordinal);

        var config = await File.ReadAllTextAsync(Path.Combine(environment["DOCKER_CONFIG"], "config.json"));
        Assert.DoesNotContain(SecureRegistries.Password, config, StringComparison.Ordinal);
        Assert.Contains(SecureRegistries.Password, await File.ReadAllTextAsync(helper.StoreFile), StringComparison.Ordinal);
        Assert.DoesNotContain(SecureRegistries.Password, await File.ReadAllTextAsync(helper.ArgvLog), StringComparison.Ordinal);

        var save = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("helper-out"), "app.tar"), $"{env.Basic.Host}/{SecureRegistries.Repository}:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Contains("argv: get", await File.ReadAllTextAsync(helper.ArgvLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InteractiveLogin_PromptsOnTheTerminalWithoutEchoingThePassword()
    {
        var script = Components.Require("script", "bsdutils");
        var output = Path.Combine(env.Scratch("ilogin"), "app.tar");
        var command = $"dotnet {FerryCli.AssemblyPath} save --ilogin -o {output} {env.Basic.Host}/{SecureRegistries.Repository}:1";
        var environment = env.CleanEnvironment();
        environment["TERM"] = "dumb";

        // Type like a user: the user name once the program is up, the password once it asks (typeahead would be echoed by the tty itself).
        var typing = $"(sleep 3; printf '%s\\n' '{SecureRegistries.User}'; sleep 2; printf '%s\\n' '{SecureRegistries.Password}'; sleep 1) | {script} -qec '{command}' /dev/null";
        var result = await ProcessRunner.RunAsync("/bin/sh", ["-c", typing], TimeSpan.FromMinutes(2), environment);
        var transcript = result.StandardOutput + result.StandardError;
        Assert.True(result.ExitCode == 0, transcript);
        Assert.Contains($"Username for {env.Basic.Host}:", transcript, StringComparison.Ordinal);
        Assert.Contains("Password for", transcript, StringComparison.Ordinal);
        Assert.DoesNotContain(SecureRegistries.Password, transcript, StringComparison.Ordinal);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public async Task PasswordOnTheCommandLine_WorksButWarns()
    {
        var output = Path.Combine(env.Scratch("pwflag"), "app.tar");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "-u", SecureRegistries.User, "--password", SecureRegistries.Password, "-o", output, $"{env.Basic.Host}/{SecureRegistries.Repository}:1");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("--password on the command line is insecure", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExplicitCredentials_AreNotSentToAnotherRegistry()
    {
        // -u/--password-stdin belong to the first image's registry (the plain seed registry here); the
        // htpasswd registry named second must not receive them, so it fails for want of credentials.
        var result = await FerryCli.RunAsync(env.CleanEnvironment(), SecureRegistries.Password, "save", "-u", SecureRegistries.User, "--password-stdin", "-o", Path.Combine(env.Scratch("scoped"), "x.tar"),
            $"{env.Seed.Host}/{SecureRegistries.Repository}:1", $"{env.Basic.Host}/{SecureRegistries.Repository}:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{env.Basic.Host} requires a user name and password", result.StandardError, StringComparison.Ordinal);
    }
}
