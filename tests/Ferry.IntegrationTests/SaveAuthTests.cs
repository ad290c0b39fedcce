using System.Net.Http.Headers;
using System.Text;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>A real registry with htpasswd (HTTP Basic) auth; credentials from a DOCKER_CONFIG config.json.</summary>
public sealed class SaveAuthTests : IAsyncLifetime
{
    private const string User = "ferry";
    private const string Password = "s3cret-Pa55";
    private readonly TempDirectory _dir = new("ferry-auth");
    private RegistryProcess? _registry;

    public async Task InitializeAsync()
    {
        var htpasswd = Components.Require("htpasswd", "apache2-utils");
        (await ProcessRunner.RunAsync(htpasswd, ["-Bbc", _dir.File("htpasswd"), User, Password])).EnsureSuccess("htpasswd");
        _registry = await RegistryProcess.StartAsync(_dir.File("htpasswd"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        var image = TestImages.Image([TestImages.RandomLayer("auth", 2048, docker: true)], docker: true, label: "auth");
        await TestImages.PushImageAsync(http, _registry.Host, "private/app", image, "1");
    }

    public async Task DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task Save_WithConfigJsonCredentials_Succeeds()
    {
        var result = await SaveWithCredentialsAsync(Password);
        Assert.True(result.ExitCode == 0, result.StandardError);
    }

    [Fact]
    public async Task Save_WrongPassword_FailsWithOneLineAndNoSecret()
    {
        var result = await SaveWithCredentialsAsync("wrong-password");
        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("ferry: error: ", result.StandardError, StringComparison.Ordinal);
        Assert.Contains("authentication", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", result.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("out.tar")));
    }

    [Fact]
    public async Task Save_NoCredentials_SaysWhatIsMissing()
    {
        var empty = Directory.CreateDirectory(_dir.File("empty-config")).FullName;
        var result = await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["DOCKER_CONFIG"] = empty }, "save", "-o", _dir.File("none.tar"), $"{_registry!.Host}/private/app:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("requires a user name and password", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Save_DebugLog_NeverPrintsTheCredentials()
    {
        var result = await SaveWithCredentialsAsync(Password, "--debug");
        Assert.True(result.ExitCode == 0, result.StandardError);
        Assert.Contains("debug:", result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, result.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")), result.StandardError, StringComparison.Ordinal);
    }

    private async Task<ProcessResult> SaveWithCredentialsAsync(string password, params string[] extra)
    {
        var config = Directory.CreateDirectory(_dir.File("docker-" + Guid.NewGuid().ToString("N"))).FullName;
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{password}"));
        await File.WriteAllTextAsync(Path.Combine(config, "config.json"), $"{{\"auths\":{{\"{_registry!.Host}\":{{\"auth\":\"{auth}\"}}}}}}");
        var output = _dir.File("out.tar");
        File.Delete(output);
        return await FerryCli.RunWithEnvironmentAsync(new Dictionary<string, string> { ["DOCKER_CONFIG"] = config }, ["save", .. extra, "-o", output, $"{_registry.Host}/private/app:1"]);
    }
}
