using Ferry.Bundles;
using Ferry.Errors;
using Ferry.Registry;

namespace Ferry.Core.Tests;

public sealed class BundleFileTests
{
    /// <summary>skopeo-sync(1)'s example file, as it is written there.</summary>
    private const string SkopeoExample = """
        registry.example.com:
            images:
                busybox: []
                redis:
                    - "1.0"
                    - "2.0"
                    - "sha256:0000000000000000000000000000000011111111111111111111111111111111"
            images-by-tag-regex:
                nginx: ^1\.13\.[12]-alpine-perl$
            credentials:
                username: john
                password: this is a secret
            tls-verify: true
            cert-dir: /home/john/certs
        quay.io:
            tls-verify: false
            images:
                coreos/etcd:
                    - latest
        """;

    [Fact]
    public void SkopeosExample_ReadsAsSkopeoReadsIt()
    {
        var bundle = Parse(SkopeoExample);
        Assert.Equal(["registry.example.com", "quay.io"], bundle.Registries.Select(r => r.Name));
        var repositories = bundle.Repositories.ToList();
        Assert.Equal(["busybox", "redis", "nginx", "coreos/etcd"], repositories.Select(r => r.Repository));
        Assert.True(repositories[0].Selection!.AllTags);
        Assert.Equal(
            ["registry.example.com/redis:1.0", "registry.example.com/redis:2.0", "registry.example.com/redis@sha256:0000000000000000000000000000000011111111111111111111111111111111"],
            repositories[1].NamedImages);
        Assert.Null(repositories[1].Selection);
        Assert.Equal(@"^1\.13\.[12]-alpine-perl$", repositories[2].Selection!.Regex);
        Assert.Equal(["quay.io/coreos/etcd:latest"], repositories[3].NamedImages);
        Assert.Equal("john", bundle.Registries[0].Credential!.Username);
        Assert.Equal("/home/john/certs", bundle.Registries[0].CertDirectory);
        Assert.True(bundle.Registries[0].TlsVerify);
        Assert.False(bundle.Registries[1].TlsVerify);
    }

    [Fact]
    public void FerrysKeys_AddPlatformsSignaturesAndPerRepositorySelections()
    {
        var bundle = Parse("""
            platforms: [linux/amd64, linux/arm64]
            signatures: drop
            registry.example.com:5000:
              images-by-semver:
                team/app: ">= 1.2, < 2"
              images:
                team/tool:
                  tags: ["1.0"]
                  regex: ^2\.
                  exclude: rc
                  newest: 3
                  as: mirror/tool
            """);
        Assert.Equal(2, bundle.PlatformSelection!.Platforms.Count);
        Assert.False(bundle.CarrySignatures);
        var repositories = bundle.Repositories.ToList();
        Assert.Equal(">= 1.2  < 2", repositories[0].Selection!.Semver);
        Assert.Equal(["1.2.0", "1.9.1"], repositories[0].Selection!.Apply(["1.0.0", "1.2.0", "1.9.1", "2.0.0"]));
        Assert.Equal(["registry.example.com:5000/team/tool:1.0"], repositories[1].NamedImages);
        Assert.Equal(new TagSelection { Regex = @"^2\.", Exclude = "rc", Newest = 3 }, repositories[1].Selection);
        Assert.Equal("mirror/tool", repositories[1].As);
    }

    [Theory]
    [InlineData("registry.example.com:\n  images:\n    app: []\n  tls-verfy: false\n", 4, "unknown key 'tls-verfy'")]
    [InlineData("platform: [linux/amd64]\n", 1, "unknown key 'platform'")]
    [InlineData("registry.example.com:\n  images:\n    app:\n      tag: [\"1\"]\n", 4, "unknown key 'tag'")]
    [InlineData("registry.example.com:\n  images:\n    App: [\"1\"]\n", 3, "is not a repository name")]
    [InlineData("registry.example.com:\n  images:\n    app:1.0: []\n", 3, "is not a repository name")]
    [InlineData("registry.example.com:\n  images:\n    app: [\"bad tag\"]\n", 3, "neither a tag nor a digest")]
    [InlineData("registry.example.com:\n  credentials:\n    username: u\n", 3, "need a username and a password")]
    [InlineData("registry.example.com:\n  images-by-tag-regex:\n    app: \"(\"\n", 3, "app")]
    [InlineData("registry.example.com:\n  images-by-semver:\n    app: not a range\n", 3, "does not parse")]
    [InlineData("signatures: maybe\n", 1, "carry or drop")]
    [InlineData("platforms: [\"linux/\"]\n", 1, "platform")]
    [InlineData("registry.example.com:\n  tls-verify: perhaps\n", 2, "true or false")]
    [InlineData("registry.example.com: [a, b]\n", 1, "expected a mapping")]
    [InlineData("registry.example.com:\n  images:\n    app: [\n", 4, "not valid YAML")]
    [InlineData("registry.example.com:\n  tls-verify: true\n  tls-verify: false\n", 3, "not valid YAML")]
    public void BadFiles_FailWithTheirLine(string text, int line, string message)
    {
        var error = Assert.Throws<InvalidInputException>(() => Parse(text));
        Assert.StartsWith($"bundle.yaml:{line}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyFile_IsRefused_AndOnlyYamlPathsAreBundles()
    {
        Assert.Contains("is empty", Assert.Throws<InvalidInputException>(() => Parse("# nothing\n")).Message, StringComparison.Ordinal);
        Assert.True(BundleFile.IsBundlePath("mirror.YAML"));
        Assert.True(BundleFile.IsBundlePath("sync.yml"));
        Assert.False(BundleFile.IsBundlePath("images.txt"));
    }

    [Fact]
    public void TheBundlesRegistrySettings_ApplyToTheirRegistryOnly()
    {
        var bundle = Parse(SkopeoExample);
        var options = BundleAccess.Options(bundle, new RegistryClientOptions());
        Assert.True(options.For("quay.io").Insecure);
        Assert.False(options.For("registry.example.com").Insecure);
        Assert.Equal("/home/john/certs", options.For("registry.example.com").CertDirectory);
        Assert.False(options.For("docker.io").Insecure);
        var sources = BundleAccess.Credentials(bundle, new Ferry.Registry.Auth.CredentialSources());
        Assert.Equal("john", sources.PerRegistry["registry.example.com"].Username);
        Assert.Single(sources.PerRegistry);
    }

    [Fact]
    public void ARename_KeepsTheTagOrDigest()
    {
        var expansion = new BundleExpansion([], [], new Dictionary<string, string> { ["registry.example.com/team/tool"] = "docker.io/mirror/tool" });
        Assert.Equal("docker.io/mirror/tool:2.1", expansion.Rename(Ferry.References.ImageReference.Parse("registry.example.com/team/tool:2.1")).ToString());
        Assert.Equal("registry.example.com/team/app:2.1", expansion.Rename(Ferry.References.ImageReference.Parse("registry.example.com/team/app:2.1")).ToString());
    }

    private static BundleFile Parse(string text) => BundleFile.Parse(new StringReader(text), "bundle.yaml");
}
