using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Whole repositories (issue #26's third item) against the real registry: <c>ferry ls</c> lists tags (paged, with
/// digests) and the catalog; <c>--all-tags</c>, <c>--tag-regex</c>, <c>--tag-semver</c>, <c>--tag-exclude</c> and
/// <c>--newest</c> turn a repository into its tags for <c>save</c> and <c>copy</c>, each tag then an ordinary image.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class RepositoryTagsTests(RealComponentsFixture env)
{
    // Thirteen tags, versions and not: a prerelease, a v prefix, 1.10 after 1.2, and names no range takes.
    private static readonly string[] Tags = ["1.0.0", "1.2.0", "1.2.5", "v1.3", "2.0.0", "latest", "dev-abc", "1.10.0", "0.9.1", "2.1.0-rc.1", "3.0.0", "nightly", "stable"];

    [Fact]
    public async Task Ls_ListsTagsWithDigests_AndTheCatalog_AndTagOptionsSelect()
    {
        var image = await PushAsync("tags/listed");
        var all = await FerryCli.RunAsync("ls", $"{env.Host}/tags/listed");
        Assert.True(all.ExitCode == 0, all.StandardError);
        Assert.Equal(Tags.Order(StringComparer.Ordinal), Lines(all.StandardOutput).Order(StringComparer.Ordinal));

        var ranged = await FerryCli.RunAsync("ls", $"{env.Host}/tags/listed", "--tag-semver", ">=1.2 <2", "--digests");
        Assert.True(ranged.ExitCode == 0, ranged.StandardError);
        Assert.Equal([$"1.2.0\t{image.Manifest.Digest}", $"1.2.5\t{image.Manifest.Digest}", $"v1.3\t{image.Manifest.Digest}", $"1.10.0\t{image.Manifest.Digest}"], Lines(ranged.StandardOutput));

        var newest = await FerryCli.RunAsync("ls", $"{env.Host}/tags/listed", "--tag-semver", "*", "--newest", "3");
        Assert.Equal(["1.10.0", "2.0.0", "3.0.0"], Lines(newest.StandardOutput));
        var regex = await FerryCli.RunAsync("ls", $"{env.Host}/tags/listed", "--tag-regex", "^[a-z]", "--tag-exclude", "^latest$");
        Assert.Equal(["dev-abc", "nightly", "stable", "v1.3"], Lines(regex.StandardOutput).Order(StringComparer.Ordinal));

        var catalog = await FerryCli.RunAsync("ls", env.Host);
        Assert.True(catalog.ExitCode == 0, catalog.StandardError);
        Assert.Contains("tags/listed", Lines(catalog.StandardOutput));

        var bad = await FerryCli.RunAsync("ls", $"{env.Host}/tags/listed", "--tag-semver", "not a range");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("does not parse", bad.StandardError, StringComparison.Ordinal);
        var missing = await FerryCli.RunAsync("ls", $"{env.Host}/tags/none");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not list this repository's tags", missing.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SaveAndCopy_TakeTheTagsTheOptionsSelect_EachAnOrdinaryImage()
    {
        await PushAsync("tags/app");
        using var dir = new TempDirectory();
        var bundle = dir.File("tags.tar");
        var save = await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/tags/app", $"{env.Host}/test/app:1", "--tag-regex", @"^1\.", "--tag-exclude", @"\.5$");
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Contains($"{env.Host}/tags/app: 3 of 13 tag(s)", save.StandardError, StringComparison.Ordinal);
        var inspect = await FerryCli.RunAsync("inspect", "--json", bundle);
        var names = JsonNode.Parse(inspect.StandardOutput)!["images"]!.AsArray().Select(i => (string)i!["name"]!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([$"{env.Host}/tags/app:1.0.0", $"{env.Host}/tags/app:1.10.0", $"{env.Host}/tags/app:1.2.0", $"{env.Host}/test/app:1"], names);

        var copy = await FerryCli.RunAsync("copy", $"{env.Host}/tags/app", "--all-tags", "--to", $"{env.Host}/tags-mirror");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        var mirrored = await FerryCli.RunAsync("ls", $"{env.Host}/tags-mirror/tags/app");
        Assert.Equal(Tags.Order(StringComparer.Ordinal), Lines(mirrored.StandardOutput).Order(StringComparer.Ordinal));

        var none = await FerryCli.RunAsync("save", "-o", dir.File("none.tar"), $"{env.Host}/tags/app", "--tag-regex", "^9");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no tag of the listed repositories matches", none.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("none.tar")));
    }

    private async Task<TestImage> PushAsync(string repository)
    {
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.RandomLayer(repository, 2048, docker: false)], docker: false, label: repository);
        await TestImages.PushImageAsync(http, env.Host, repository, image, Tags[0]);
        foreach (var tag in Tags.Skip(1))
        {
            await TestImages.PushManifestAsync(http, env.Host, repository, image.Manifest, tag);
        }

        return image;
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
