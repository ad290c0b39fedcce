using System.Text;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// The real registry with token auth: a test token server issues JWTs the registry verifies against the
/// test signing certificate. Passwords, identity tokens (OAuth2), helpers, expiry and refusals.
/// </summary>
public sealed class TokenAuthTests(SecureRegistries env) : IClassFixture<SecureRegistries>
{
    private string Image => $"{env.Token.Host}/{SecureRegistries.Repository}:1";

    [Fact]
    public async Task Case28_PasswordCredentials_GetAPullScopedTokenTheRegistryAccepts()
    {
        var before = env.Tokens.Requests.Count;
        var config = SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, env.Tokens.Password);
        var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "-o", Path.Combine(env.Scratch("token"), "app.tar"), Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var request = Assert.Single(env.Tokens.Requests.Skip(before));
        Assert.True(request.Authenticated);
        Assert.Equal(["repository:private/app:pull"], request.Scopes);
    }

    [Fact]
    public async Task Case25_IdentityTokenInConfig_IsExchangedByOAuth2Post()
    {
        var before = env.Tokens.Requests.Count;
        var config = $"{{\"auths\":{{\"{env.Token.Host}\":{{\"identitytoken\":\"{env.Tokens.RefreshToken}\"}}}}}}";
        var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "--debug", "-o", Path.Combine(env.Scratch("idtoken"), "app.tar"), Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        var request = Assert.Single(env.Tokens.Requests.Skip(before));
        Assert.Equal(("POST", "refresh_token", true), (request.Method, request.Grant, request.Authenticated));

        // Case 26: neither the identity token nor any issued JWT reaches the debug log.
        Assert.DoesNotContain(env.Tokens.RefreshToken, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("eyJ", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case25_HelperAnsweringTheTokenUser_LeadsToAnOAuth2Post()
    {
        var before = env.Tokens.Requests.Count;
        var helper = new FakeCredentialHelper(env.Scratch("tokhelper"), "tok", $"{{\"ServerURL\":\"{env.Token.Host}\",\"Username\":\"<token>\",\"Secret\":\"{env.Tokens.RefreshToken}\"}}");
        var environment = env.CleanEnvironment($"{{\"credHelpers\":{{\"{env.Token.Host}\":\"tok\"}}}}");
        environment["PATH"] = helper.SearchPath;
        var result = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("tokhelper-out"), "app.tar"), Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal("POST", Assert.Single(env.Tokens.Requests.Skip(before)).Method);
    }

    [Fact]
    public async Task Case30_TokenExpiredWhenUsed_IsRefreshedOnceAndTheSaveSucceeds()
    {
        var before = env.Tokens.Requests.Count;
        env.Tokens.ExpiredTokensToIssue = 1;
        var config = SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, env.Tokens.Password);
        var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "-o", Path.Combine(env.Scratch("expired"), "app.tar"), Image);
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Equal(2, env.Tokens.Requests.Count - before);
    }

    [Fact]
    public async Task Case30_TokensThatNeverWork_FailAfterOneRefreshWithoutALoop()
    {
        var before = env.Tokens.Requests.Count;
        env.Tokens.ExpiredTokensToIssue = 1000;
        try
        {
            var config = SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, env.Tokens.Password);
            var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "-o", Path.Combine(env.Scratch("never"), "app.tar"), Image);
            Assert.Equal(1, result.ExitCode);
            Assert.Contains("authentication required", Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
            Assert.Equal(2, env.Tokens.Requests.Count - before);
        }
        finally
        {
            env.Tokens.ExpiredTokensToIssue = 0;
        }
    }

    [Fact]
    public async Task WrongPassword_IsRefusedByTheTokenServerWithoutEchoingIt()
    {
        var config = SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, "wrong-Secret-77");
        var result = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "save", "-o", Path.Combine(env.Scratch("wrong"), "app.tar"), Image);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"refused the credentials for user \"{env.Tokens.User}\"", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-Secret-77", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case23_ConfiguredHelperThatCannotRun_IsAHardErrorAndNoCredentialLeavesTheMachine()
    {
        var before = env.Tokens.Requests.Count;
        var result = await FerryCli.RunAsync(env.CleanEnvironment($"{{\"credHelpers\":{{\"{env.Token.Host}\":\"missing-helper\"}}}}"), null, "save", "-o", Path.Combine(env.Scratch("nohelper"), "app.tar"), Image);
        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("credential helper docker-credential-missing-helper", line, StringComparison.Ordinal);
        Assert.Equal(before, env.Tokens.Requests.Count);
    }

    [Fact]
    public async Task Case24_HelperWithoutCredentials_PullsAnonymouslyWithAnAnonymousToken()
    {
        var helper = new FakeCredentialHelper(env.Scratch("emptyhelper"), "empty");
        var environment = env.CleanEnvironment("""{"credsStore":"empty"}""");
        environment["PATH"] = helper.SearchPath;
        var result = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("anon"), "app.tar"), $"{env.Token.Host}/{SecureRegistries.PublicRepository}:1");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("argv: get", await File.ReadAllTextAsync(helper.ArgvLog), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case27_RegistryAuthFileAndContainersAuthJson_AreReadWithTheDocumentedPrecedence()
    {
        var environment = env.CleanEnvironment(SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, "docker-config-is-wrong"));

        // REGISTRY_AUTH_FILE comes before Docker's config: its right password wins.
        var authFile = Path.Combine(env.Scratch("authfile"), "auth.json");
        await File.WriteAllTextAsync(authFile, SecureRegistries.BasicConfigJson($"{env.Token.Host}/private", env.Tokens.User, env.Tokens.Password));
        environment["REGISTRY_AUTH_FILE"] = authFile;
        var viaAuthFile = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("p1"), "app.tar"), Image);
        Assert.True(viaAuthFile.ExitCode == 0, viaAuthFile.StandardError);

        // Without it, Docker's config (wrong password) comes before $XDG_RUNTIME_DIR/containers/auth.json.
        environment["REGISTRY_AUTH_FILE"] = string.Empty;
        var containers = Directory.CreateDirectory(Path.Combine(environment["XDG_RUNTIME_DIR"], "containers")).FullName;
        await File.WriteAllTextAsync(Path.Combine(containers, "auth.json"), SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, env.Tokens.Password));
        var viaDocker = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("p2"), "app.tar"), Image);
        Assert.Equal(1, viaDocker.ExitCode);

        File.Delete(Path.Combine(environment["DOCKER_CONFIG"], "config.json"));
        var viaContainers = await FerryCli.RunAsync(environment, null, "save", "-o", Path.Combine(env.Scratch("p3"), "app.tar"), Image);
        Assert.True(viaContainers.ExitCode == 0, viaContainers.StandardError);
    }

    [Fact]
    public async Task Load_IntoATokenRegistry_AsksForPullAndPushOnTheTargetRepository()
    {
        var dir = env.Scratch("load-token");
        var bundle = Path.Combine(dir, "bundle.tar");
        (await FerryCli.RunAsync(env.CleanEnvironment(), null, "save", "-o", bundle, $"{env.Seed.Host}/{SecureRegistries.Repository}:1")).EnsureSuccess("ferry save");
        var before = env.Tokens.Requests.Count;
        var config = SecureRegistries.BasicConfigJson(env.Token.Host, env.Tokens.User, env.Tokens.Password);
        var load = await FerryCli.RunAsync(env.CleanEnvironment(config), null, "load", bundle, "--to", $"{env.Token.Host}/pushed");
        Assert.True(load.ExitCode == 0, load.StandardError);
        Assert.Contains($"{env.Token.Host}/pushed/{SecureRegistries.Repository}:1\t{env.Digest}", load.StandardOutput, StringComparison.Ordinal);
        Assert.Contains(env.Tokens.Requests.Skip(before), r => r.Scopes.Contains($"repository:pushed/{SecureRegistries.Repository}:pull,push"));
    }
}
