using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Core.Tests;

public sealed class PlatformTests
{
    [Theory]
    [InlineData("linux/amd64", "linux/amd64")]
    [InlineData("amd64", "linux/amd64")]
    [InlineData("linux/x86_64", "linux/amd64")]
    [InlineData("linux/arm64", "linux/arm64/v8")]
    [InlineData("linux/aarch64", "linux/arm64/v8")]
    [InlineData("arm64/v8", "linux/arm64/v8")]
    [InlineData("linux/arm", "linux/arm/v7")]
    [InlineData("linux/armhf", "linux/arm/v7")]
    [InlineData("linux/arm/v6", "linux/arm/v6")]
    [InlineData("windows/amd64", "windows/amd64")]
    [InlineData("LINUX/AMD64", "linux/amd64")]
    public void Parse_Text_NormalisesLikeContainerd(string text, string expected)
    {
        Assert.Equal(expected, Platform.Parse(text).ToString());
    }

    [Theory]
    [InlineData("linux/arm64", "linux", "arm64", "v8", true)]
    [InlineData("linux/arm64", "linux", "arm64", null, true)]
    [InlineData("linux/arm", "linux", "arm", "v7", true)]
    [InlineData("linux/arm", "linux", "arm", "v6", false)]
    [InlineData("linux/amd64", "linux", "arm64", null, false)]
    [InlineData("linux/amd64", "windows", "amd64", null, false)]
    [InlineData("linux/amd64", "", "amd64", null, true)]
    public void Matches_Candidate_FollowsNormalisation(string wanted, string os, string arch, string? variant, bool expected)
    {
        Assert.Equal(expected, Platform.Parse(wanted).Matches(new Platform(os, arch, variant)));
    }

    [Theory]
    [InlineData("linux//")]
    [InlineData("a/b/c/d")]
    [InlineData("linux/am d64")]
    public void Parse_Malformed_Throws(string text)
    {
        Assert.Throws<InvalidInputException>(() => Platform.Parse(text));
    }

    [Fact]
    public void Selection_AllAndSubset_IncludeAsExpected()
    {
        var subset = PlatformSelection.Of([Platform.Parse("amd64"), Platform.Parse("arm64")]);
        Assert.True(subset.Includes(new Platform("linux", "arm64", "v8")));
        Assert.False(subset.Includes(new Platform("linux", "s390x")));
        Assert.True(PlatformSelection.All.Includes(new Platform("linux", "s390x")));
        Assert.Equal([Platform.Host], PlatformSelection.Of([]).Platforms);
    }
}
