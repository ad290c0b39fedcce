using Ferry.Errors;
using Ferry.Registry;

namespace Ferry.Core.Tests;

public sealed class TagSelectionTests
{
    private static readonly string[] Listed = ["1.0.0", "1.10.0", "1.2.0", "1.2.5", "2.0.0", "dev-abc", "latest", "v1.3", "2.0.0-rc.1"];

    [Fact]
    public void Semver_TakesVersionsInTheRange_InVersionOrder()
    {
        Assert.Equal(["1.2.0", "1.2.5", "v1.3", "1.10.0"], new TagSelection { Semver = ">=1.2 <2" }.Apply(Listed));
        Assert.Equal(["1.2.0", "1.2.5"], new TagSelection { Semver = "~1.2" }.Apply(Listed));
    }

    [Fact]
    public void Regex_FindsAnywhere_ExcludeRemoves_AndNewestTakesTheLast()
    {
        Assert.Equal(["dev-abc"], new TagSelection { Regex = "abc" }.Apply(Listed));
        Assert.Equal(["1.0.0", "1.2.0"], new TagSelection { Regex = @"^1\.\d\.", Exclude = @"\.5$" }.Apply(Listed));
        Assert.Equal(["1.10.0", "2.0.0"], new TagSelection { Semver = "*", Newest = 2 }.Apply(Listed));

        // Not all versions: the registry's order decides what is newest.
        Assert.Equal(["v1.3", "2.0.0-rc.1"], new TagSelection { AllTags = true, Newest = 2 }.Apply(Listed));
    }

    [Theory]
    [InlineData("(", null, null)]
    [InlineData(null, "not a range", null)]
    [InlineData(null, null, 0)]
    public void BadSettings_AreOneClearError(string? regex, string? semver, int? newest) =>
        Assert.Throws<InvalidInputException>(() => new TagSelection { Regex = regex, Semver = semver, Newest = newest }.Validate());
}
