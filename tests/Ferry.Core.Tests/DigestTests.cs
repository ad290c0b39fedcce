using Ferry.References;

namespace Ferry.Core.Tests;

public sealed class DigestTests
{
    [Theory]
    [InlineData("sha256:../../etc/passwd")]
    [InlineData("sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    [InlineData("sha256:abc")]
    [InlineData("md5:0123456789abcdef0123456789abcdef")]
    [InlineData("sha256")]
    [InlineData("")]
    public void TryParse_Malformed_IsRejectedBeforeItBecomesAPath(string text)
    {
        Assert.False(Digest.TryParse(text, out _));
    }

    [Fact]
    public void Sha256Of_KnownInput_MatchesTheKnownDigest()
    {
        var digest = Digest.Sha256Of("abc"u8);
        Assert.Equal("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.ToString());
        Assert.Equal("blobs/sha256/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest.LayoutPath);
        Assert.Equal(digest, Digest.Parse(digest.ToString()));
    }
}
