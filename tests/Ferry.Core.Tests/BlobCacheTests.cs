using Ferry.Caching;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Core.Tests;

/// <summary>The blob cache stores only what was read whole and matched; a damaged entry goes away when read.</summary>
public sealed class BlobCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ferry-cache-test-").FullName;

    [Fact]
    public async Task AVerifiedDownload_IsStored_AWrongOrAbandonedOneLeavesNothing()
    {
        var cache = new BlobCache(_dir);
        var (content, descriptor) = Blob(1, 200_000);

        var lying = new byte[content.Length];
        await using (var wrong = cache.Fill(descriptor, new MemoryStream(lying), "test"))
        {
            await Assert.ThrowsAsync<DigestMismatchException>(() => wrong.CopyToAsync(Stream.Null));
        }

        await using (var abandoned = cache.Fill(descriptor, new MemoryStream(content), "test"))
        {
            await abandoned.ReadExactlyAsync(new byte[1000]);
        }

        Assert.False(cache.Contains(descriptor));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "tmp")));

        await using (var good = cache.Fill(descriptor, new MemoryStream(content), "test"))
        {
            await good.CopyToAsync(Stream.Null);
        }

        Assert.True(cache.Contains(descriptor));
        await using var hit = cache.OpenRead(descriptor, "test")!;
        var back = new MemoryStream();
        await hit.CopyToAsync(back);
        Assert.Equal(content, back.ToArray());
    }

    [Fact]
    public async Task ADamagedEntry_FailsItsRead_AndIsRemoved()
    {
        var cache = new BlobCache(_dir);
        var (content, descriptor) = Blob(2, 5000);
        await using (var fill = cache.Fill(descriptor, new MemoryStream(content), "test"))
        {
            await fill.CopyToAsync(Stream.Null);
        }

        var path = cache.PathOf(descriptor.Digest);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllBytesAsync(path, new byte[content.Length]);
        await using (var read = cache.OpenRead(descriptor, "test")!)
        {
            await Assert.ThrowsAsync<DigestMismatchException>(() => read.CopyToAsync(Stream.Null));
        }

        Assert.False(File.Exists(path));
        Assert.Null(cache.OpenRead(descriptor, "test"));
        Assert.False(await cache.TryLinkAsync(descriptor, Path.Combine(_dir, "link"), CancellationToken.None));
    }

    [Fact]
    public async Task Prune_RemovesTheLeastRecentlyUsedFirst_AndDeadRunsTemporaries()
    {
        var cache = new BlobCache(_dir);
        var blobs = new[] { Blob(3, 1000), Blob(4, 1000), Blob(5, 1000) };
        for (var i = 0; i < blobs.Length; i++)
        {
            await using (var fill = cache.Fill(blobs[i].Descriptor, new MemoryStream(blobs[i].Content), "test"))
            {
                await fill.CopyToAsync(Stream.Null);
            }

            File.SetLastWriteTimeUtc(cache.PathOf(blobs[i].Descriptor.Digest), DateTime.UtcNow.AddHours(i - 10));
        }

        var dead = Path.Combine(_dir, "tmp", $"{new string('0', 64)}.999999999.{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(dead, "half");
        var result = cache.Prune(2000);
        Assert.Equal([blobs[0].Descriptor.Digest], result.Removed.Select(b => b.Digest));
        Assert.Equal(2000, result.KeptBytes);
        Assert.False(File.Exists(dead));
        Assert.Equal([blobs[2].Descriptor.Digest, blobs[1].Descriptor.Digest], cache.List().Select(b => b.Digest));
    }

    public void Dispose()
    {
        foreach (var file in Directory.EnumerateFiles(_dir, "*", SearchOption.AllDirectories))
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        Directory.Delete(_dir, recursive: true);
    }

    private static (byte[] Content, Descriptor Descriptor) Blob(int seed, int size)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        return (content, new Descriptor("application/octet-stream", Digest.Sha256Of(content), size));
    }
}
