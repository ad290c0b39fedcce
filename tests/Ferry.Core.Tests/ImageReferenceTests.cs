using Ferry.Errors;
using Ferry.References;

namespace Ferry.Core.Tests;

public sealed class ImageReferenceTests
{
    [Theory]
    [InlineData("nginx", "docker.io", "library/nginx", "latest", "docker.io/library/nginx:latest")]
    [InlineData("nginx:1.27", "docker.io", "library/nginx", "1.27", "docker.io/library/nginx:1.27")]
    [InlineData("index.docker.io/library/nginx:1", "docker.io", "library/nginx", "1", "docker.io/library/nginx:1")]
    [InlineData("docker.io/nginx", "docker.io", "library/nginx", "latest", "docker.io/library/nginx:latest")]
    [InlineData("rancher/rancher:v2.7.0", "docker.io", "rancher/rancher", "v2.7.0", "docker.io/rancher/rancher:v2.7.0")]
    [InlineData("registry.example.com:5000/team/app:1.4", "registry.example.com:5000", "team/app", "1.4", "registry.example.com:5000/team/app:1.4")]
    [InlineData("localhost/app", "localhost", "app", "latest", "localhost/app:latest")]
    [InlineData("localhost:5000/a/b/c:x", "localhost:5000", "a/b/c", "x", "localhost:5000/a/b/c:x")]
    [InlineData("[::1]:5000/app:2", "[::1]:5000", "app", "2", "[::1]:5000/app:2")]
    [InlineData("quay.io/org/my-app__x.y:1", "quay.io", "org/my-app__x.y", "1", "quay.io/org/my-app__x.y:1")]
    public void Parse_ValidReference_NormalisesLikeDocker(string text, string registry, string repository, string tag, string full)
    {
        var reference = ImageReference.Parse(text);
        Assert.Equal(registry, reference.Registry);
        Assert.Equal(repository, reference.Repository);
        Assert.Equal(tag, reference.Tag);
        Assert.Equal(full, reference.ToString());
    }

    [Fact]
    public void Parse_DigestOnly_HasNoTagAndAsksForTheDigest()
    {
        var digest = "sha256:" + new string('a', 64);
        var reference = ImageReference.Parse($"nginx@{digest}");
        Assert.Null(reference.Tag);
        Assert.Null(reference.TaggedName);
        Assert.Equal(digest, reference.ManifestReference);
        Assert.Equal($"docker.io/library/nginx@{digest}", reference.ToString());
    }

    [Fact]
    public void Parse_TagAndDigest_KeepsBothAndAsksForTheDigest()
    {
        var digest = "sha256:" + new string('b', 64);
        var reference = ImageReference.Parse($"nginx:1.27@{digest}");
        Assert.Equal("1.27", reference.Tag);
        Assert.Equal(digest, reference.ManifestReference);
    }

    [Fact]
    public void RegistryHost_DockerHub_IsRegistry1()
    {
        Assert.Equal("registry-1.docker.io", ImageReference.Parse("nginx").RegistryHost);
        Assert.Equal("127.0.0.1:5000", ImageReference.Parse("127.0.0.1:5000/x").RegistryHost);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("Nginx", "lowercase")]
    [InlineData("nginx:", "invalid tag")]
    [InlineData("nginx:bad tag", "invalid tag")]
    [InlineData("nginx@sha256:abc", "invalid digest")]
    [InlineData("nginx@md5:0123456789abcdef0123456789abcdef", "invalid digest")]
    [InlineData("a//b", "invalid repository")]
    [InlineData("-nginx", "invalid repository")]
    [InlineData("host:5000/", "missing repository")]
    public void Parse_Malformed_ThrowsInvalidInputWithTheReason(string text, string reason)
    {
        var ex = Assert.Throws<InvalidInputException>(() => ImageReference.Parse(text));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NameOver255Characters_Fails()
    {
        Assert.Throws<InvalidInputException>(() => ImageReference.Parse("example.com/" + new string('a', 250)));
    }
}
