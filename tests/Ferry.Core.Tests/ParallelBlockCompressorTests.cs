using System.IO.Compression;
using Ferry.Archives.Compression;

namespace Ferry.Core.Tests;

public sealed class ParallelBlockCompressorTests
{
    [Theory]
    [InlineData(OuterCompression.Gzip)]
    [InlineData(OuterCompression.Zstd)]
    public async Task Compress_SeveralBlocks_DecompressesToTheSameBytesWithStandardReaders(OuterCompression compression)
    {
        var data = new byte[(9 * 1024 * 1024) + 12345];
        new Random(7).NextBytes(data.AsSpan(0, data.Length / 2));
        using var compressed = new MemoryStream();
        await using (var compressor = new ParallelBlockCompressor(compressed, compression))
        {
            for (var offset = 0; offset < data.Length; offset += 100_000)
            {
                await compressor.WriteAsync(data.AsMemory(offset, Math.Min(100_000, data.Length - offset)));
            }

            await compressor.CompleteAsync(CancellationToken.None);
            Assert.Equal(compressed.Length, compressor.CompressedBytes);
        }

        compressed.Position = 0;
        Stream reader = compression == OuterCompression.Gzip
            ? new GZipStream(compressed, CompressionMode.Decompress)
            : new ZstdSharp.DecompressionStream(compressed);
        using var result = new MemoryStream();
        await reader.CopyToAsync(result);
        Assert.Equal(data, result.ToArray());
        Assert.True(compressed.Length < data.Length * 0.75);
    }
}
