using Ferry.Errors;
using Ferry.Saving;

namespace Ferry.Core.Tests;

/// <summary>The documented partition of `--shard`: SHA-256 of the normalized reference, first 8 bytes big-endian, mod N, 1-based.</summary>
public sealed class ShardTests
{
    [Theory]
    // Expected values computed independently (Python's hashlib) from the documented rule.
    [InlineData("nginx:1.27", 16, 1)]
    [InlineData("docker.io/library/nginx:1.27", 16, 1)]
    [InlineData("registry.internal:5000/team/app:1.4", 3, 3)]
    [InlineData("busybox", 7, 7)]
    public void Of_FollowsTheDocumentedRule_OnTheNormalizedReference(string image, int count, int expected) =>
        Assert.Equal(expected, Shard.Of(image, count));

    [Fact]
    public void EveryImageIsInExactlyOneShard()
    {
        var images = Enumerable.Range(0, 200).Select(i => $"registry.internal:5000/team/app{i}:1").ToList();
        var shards = Enumerable.Range(1, 5).Select(i => new Shard(i, 5)).ToList();
        Assert.All(images, image => Assert.Single(shards, s => s.Contains(image)));
        Assert.All(shards, s => Assert.InRange(images.Count(s.Contains), 20, 60)); // spread, not all in one
    }

    [Theory]
    [InlineData("0/3")]
    [InlineData("4/3")]
    [InlineData("3")]
    [InlineData("a/b")]
    [InlineData("1/0")]
    [InlineData("-1/3")]
    public void Parse_RefusesWhatIsNotIndexOverCount(string text) =>
        Assert.Throws<InvalidInputException>(() => Shard.Parse(text));
}
