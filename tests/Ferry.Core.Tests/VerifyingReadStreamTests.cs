using Ferry.Content;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Core.Tests;

public sealed class VerifyingReadStreamTests
{
    private static readonly byte[] Data = "hello, layer"u8.ToArray();

    [Fact]
    public async Task ReadToEnd_MatchingContent_Succeeds()
    {
        await using var stream = new VerifyingReadStream(new MemoryStream(Data), new Descriptor("x", Digest.Sha256Of(Data), Data.Length), "t");
        await stream.CopyToAsync(Stream.Null);
        Assert.Equal(Data.Length, stream.BytesRead);
    }

    [Fact]
    public async Task ReadToEnd_FlippedByte_ThrowsDigestMismatch()
    {
        var corrupt = (byte[])Data.Clone();
        corrupt[3] ^= 1;
        await using var stream = new VerifyingReadStream(new MemoryStream(corrupt), new Descriptor("x", Digest.Sha256Of(Data), Data.Length), "t");
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains("digest mismatch", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_MoreBytesThanTheSize_ThrowsBeforeTheEnd()
    {
        var longer = Data.Concat(new byte[10_000]).ToArray();
        await using var stream = new VerifyingReadStream(new MemoryStream(longer), new Descriptor("x", Digest.Sha256Of(Data), Data.Length), "t");
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains("larger", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadToEnd_Truncated_ThrowsTruncated()
    {
        await using var stream = new VerifyingReadStream(new MemoryStream(Data[..5]), new Descriptor("x", Digest.Sha256Of(Data), Data.Length), "t");
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }
}
