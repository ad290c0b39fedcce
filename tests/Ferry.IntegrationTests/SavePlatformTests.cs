using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

[Collection(RealComponentsCollection.Name)]
public sealed class SavePlatformTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Save_DefaultPlatform_KeepsOnlyTheHostEntryInASubsetIndex()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("multi.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save");

        var top = TopIndex(archive);
        var manifests = top["manifests"]!.AsArray();
        Assert.Single(manifests);
        Assert.Equal(env.Images["test/multi:1/amd64"].Manifest.Digest, (string?)manifests[0]!["digest"]);
        Assert.NotEqual(env.Digests["test/multi:1"], (string?)RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]![0]!["digest"]);
        Assert.DoesNotContain(RealComponentsFixture.EntryNames(archive), n => n.EndsWith(env.Images["test/multi:1/arm64"].Manifest.Digest[7..], StringComparison.Ordinal));
    }

    [Fact]
    public async Task Save_ArchShorthand_SelectsTwoPlatforms()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("two.tar");
        (await FerryCli.RunAsync("save", "-a", "amd64,arm64", "-o", archive, $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save -a");

        var digests = TopIndex(archive)["manifests"]!.AsArray().Select(m => (string?)m!["digest"]).ToList();
        Assert.Equal([env.Images["test/multi:1/amd64"].Manifest.Digest, env.Images["test/multi:1/arm64"].Manifest.Digest], digests);
    }

    [Fact]
    public async Task Save_PlatformWithVariant_MatchesNormalisedArm64()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("arm.tar");
        (await FerryCli.RunAsync("save", "--platform", "linux/arm64/v8", "-o", archive, $"{env.Host}/test/multi:1")).EnsureSuccess("ferry save --platform");

        var manifests = TopIndex(archive)["manifests"]!.AsArray();
        Assert.Equal(env.Images["test/multi:1/arm64"].Manifest.Digest, (string?)Assert.Single(manifests)!["digest"]);
    }

    [Fact]
    public async Task Save_AllPlatforms_KeepsTheOriginalIndexBytes()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("all.tar");
        (await FerryCli.RunAsync("save", "--all-platforms", "-o", archive, $"{env.Host}/test/multi:1", $"{env.Host}/test/dlist:1")).EnsureSuccess("ferry save --all-platforms");

        var index = RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]!.AsArray();
        Assert.Equal(env.Digests["test/multi:1"], (string?)index[0]!["digest"]);
        Assert.Equal(env.Digests["test/dlist:1"], (string?)index[1]!["digest"]);
        Assert.Equal("application/vnd.docker.distribution.manifest.list.v2+json", (string?)index[1]!["mediaType"]);
    }

    [Fact]
    public async Task Save_SinglePlatformImageNotSelected_FailsNamingItsPlatform()
    {
        using var dir = new TempDirectory();
        var result = await FerryCli.RunAsync("save", "-o", dir.File("x.tar"), $"{env.Host}/test/armonly:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("linux/arm64/v8", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));

        (await FerryCli.RunAsync("save", "-a", "arm64", "-o", dir.File("y.tar"), $"{env.Host}/test/armonly:1")).EnsureSuccess("ferry save -a arm64");
    }

    [Fact]
    public async Task Save_NoMatchingPlatform_FailsListingTheAvailableOnes()
    {
        using var dir = new TempDirectory();
        var result = await FerryCli.RunAsync("save", "--platform", "linux/s390x", "-o", dir.File("x.tar"), $"{env.Host}/test/multi:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("linux/amd64, linux/arm64/v8, linux/arm/v7", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    private static JsonNode TopIndex(string archive)
    {
        var digest = (string)RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]![0]!["digest"]!;
        return RealComponentsFixture.ReadJsonEntry(archive, "blobs/sha256/" + digest[7..]);
    }
}
