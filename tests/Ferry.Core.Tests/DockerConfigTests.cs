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
        var entries = DockerConfigCredentialProvider.Parse(Encoding.UTF8.GetBytes(json), "config.json");
        Assert.Equal("alice", entries["docker.io"].Username);
        Assert.Equal("s3cr:et", entries["docker.io"].Password);
        Assert.Equal("alice", entries["registry.example.com:5000"].Username);
        Assert.Equal("refresh-me", entries["ghcr.io"].IdentityToken);
        Assert.DoesNotContain("s3cr", entries["docker.io"].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadBase64_NamesTheEntry()
    {
        var ex = Assert.Throws<InvalidInputException>(() => DockerConfigCredentialProvider.Parse("{\"auths\":{\"h\":{\"auth\":\"%%%\"}}}"u8, "config.json"));
        Assert.Contains("\"auth\" field for h", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_FromFile_FindsDockerHubUnderItsLegacyKey()
    {
        var path = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(path, "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" + Convert.ToBase64String("u:p"u8) + "\"}}}");
            var provider = new DockerConfigCredentialProvider(path);
            Assert.Equal("u", (await provider.GetAsync("docker.io"))!.Username);
            Assert.Null(await provider.GetAsync("quay.io"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
