using System.Text;
using Ferry.Errors;
using Ferry.Registry.Auth;

namespace Ferry.Core.Tests;

public sealed class DockerConfigTests
{
    [Fact]
    public void Parse_AuthsWithBase64AndIdentityToken_ReadsEachHost()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:s3cr:et"));
        var json = $$$"""
            {"auths": {
              "https://index.docker.io/v1/": {"auth": "{{{auth}}}"},
              "registry.example.com:5000": {"auth": "{{{auth}}}"},
              "https://ghcr.io": {"identitytoken": "refresh-me"}
            }}
            """;
        var file = AuthFile.Parse(Encoding.UTF8.GetBytes(json), "config.json");
        Assert.Equal("alice", file.Entries["docker.io"].Username);
        Assert.Equal("s3cr:et", file.Entries["docker.io"].Password);
        Assert.Equal("alice", file.Entries["registry.example.com:5000"].Username);
        Assert.Equal("refresh-me", file.Entries["ghcr.io"].IdentityToken);
        Assert.DoesNotContain("s3cr", file.Entries["docker.io"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadBase64_NamesTheEntry()
    {
        var ex = Assert.Throws<InvalidInputException>(() => AuthFile.Parse("{\"auths\":{\"h\":{\"auth\":\"%%%\"}}}"u8, "config.json"));
        Assert.Contains("\"auth\" field for h", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AuthWithoutUser_IsRejectedAndTrailingNulsAreTrimmed()
    {
        Assert.Throws<InvalidInputException>(() => AuthFile.Parse(Encoding.UTF8.GetBytes("{\"auths\":{\"h\":{\"auth\":\"" + Convert.ToBase64String(":pw"u8) + "\"}}}"), "c"));
        var file = AuthFile.Parse(Encoding.UTF8.GetBytes("{\"auths\":{\"h\":{\"auth\":\"" + Convert.ToBase64String("u:pw\0\0"u8) + "\"}}}"), "c");
        Assert.Equal("pw", file.Entries["h"].Password);
    }

    [Fact]
    public void Parse_HelpersAndEmptyMarkers_AreReadAndMarkersAreNotCredentials()
    {
        var file = AuthFile.Parse("""{"auths":{"ghcr.io":{}},"credsStore":"desktop","credHelpers":{"123.dkr.ecr.eu-west-1.amazonaws.com":"ecr-login"}}"""u8, "c");
        Assert.Empty(file.Entries);
        Assert.Equal("ecr-login", file.HelperFor("123.dkr.ecr.eu-west-1.amazonaws.com"));
        Assert.Equal("desktop", file.HelperFor("ghcr.io"));
    }

    [Theory]
    [InlineData("https://index.docker.io/v1/", "docker.io")]
    [InlineData("registry-1.docker.io", "docker.io")]
    [InlineData("http://Registry.Example:5000/v2/", "registry.example:5000")]
    [InlineData("quay.io/team/app", "quay.io/team/app")]
    public void Normalize_KeysAsDockerAndContainersWriteThem(string key, string expected) => Assert.Equal(expected, AuthKeys.Normalize(key));

    [Fact]
    public void Case27_NamespacedAuthJsonKeys_MostSpecificWins()
    {
        var json = """
            {"auths": {
              "quay.io": {"auth": "dTE6cDE="},
              "quay.io/team": {"auth": "dTI6cDI="},
              "quay.io/team/app": {"auth": "dTM6cDM="}
            }}
            """;
        var file = AuthFile.Parse(Encoding.UTF8.GetBytes(json), "auth.json");
        Assert.Equal("u3", file.Find("quay.io", "team/app")!.Username);
        Assert.Equal("u2", file.Find("quay.io", "team/other")!.Username);
        Assert.Equal("u1", file.Find("quay.io", "elsewhere/app")!.Username);
        Assert.Null(file.Find("ghcr.io", "team/app"));
    }

    [Fact]
    public async Task Case27_Precedence_ExplicitThenAuthFileThenDockerConfigThenContainersAuth()
    {
        using var dir = new TempDir();
        string Write(string name, string user) => dir.Write(name, $"{{\"auths\":{{\"reg.test\":{{\"auth\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":pw"))}\"}}}}}}");
        var authFile = Write("authfile.json", "from-authfile");
        var docker = Write("config.json", "from-docker");
        var containers = Write("auth.json", "from-containers");
        var other = dir.Write("other.json", "{\"auths\":{\"other.test\":{\"auth\":\"" + Convert.ToBase64String("only-containers:pw"u8) + "\"}}}");

        async Task<string?> UserWith(CredentialSources sources, string registry = "reg.test") => (await new DefaultCredentialProvider(sources).GetAsync(registry, "team/app"))?.Username;

        var all = new CredentialSources { AuthFile = authFile, DockerConfig = docker, ContainersAuthFiles = [containers, other] };
        Assert.Equal("explicit", await UserWith(all with { ExplicitCredential = new RegistryCredential("explicit", "x"), ExplicitRegistry = "reg.test" }));
        Assert.Equal("from-authfile", await UserWith(all with { ExplicitCredential = new RegistryCredential("explicit", "x"), ExplicitRegistry = "elsewhere.test" }));
        Assert.Equal("from-authfile", await UserWith(all));
        Assert.Equal("from-docker", await UserWith(all with { AuthFile = null }));
        Assert.Equal("from-containers", await UserWith(all with { AuthFile = null, DockerConfig = null }));
        Assert.Equal("only-containers", await UserWith(all, "other.test"));
        Assert.Null(await UserWith(all, "nowhere.test"));
    }

    [Fact]
    public void CredentialToString_NeverShowsTheSecret()
    {
        var credential = new RegistryCredential("alice", "hunter2", "idtok-secret") { Source = "config.json" };
        Assert.DoesNotContain("hunter2", credential.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("idtok", credential.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>A temporary directory for unit tests that need files.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("ferry-unit-").FullName;

    public string Write(string name, string content)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
