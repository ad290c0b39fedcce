namespace Ferry.Archives.Format;

/// <summary>The compression of a stream, told by its first bytes (never by a file name).</summary>
public enum DetectedCompression
{
    /// <summary>Not compressed (or not a compression Ferry knows).</summary>
    None,

    /// <summary>gzip (<c>1f 8b 08</c>).</summary>
    Gzip,

    /// <summary>zstd (<c>28 b5 2f fd</c>).</summary>
    Zstd,
}

/// <summary>The one compression sniffer: archives, layers and streams on stdin are all told apart here.</summary>
public static class CompressionDetector
{
    /// <summary>How many leading bytes <see cref="Detect"/> looks at.</summary>
    public const int MagicLength = 4;

    /// <summary>Tells the compression from the leading bytes.</summary>
    /// <param name="magic">At least the first <see cref="MagicLength"/> bytes, or all there are.</param>
    /// <returns>The compression.</returns>
    public static DetectedCompression Detect(ReadOnlySpan<byte> magic) =>
        magic.Length >= 3 && magic[0] == 0x1f && magic[1] == 0x8b && magic[2] == 0x08 ? DetectedCompression.Gzip
        : magic.Length >= 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd ? DetectedCompression.Zstd
        : DetectedCompression.None;

    /// <summary>Tells the compression of a file from its first bytes.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The compression.</returns>
    public static DetectedCompression DetectFile(string path)
    {
        Span<byte> magic = stackalloc byte[MagicLength];
        using var file = File.OpenRead(path);
        var n = file.ReadAtLeast(magic, MagicLength, throwOnEndOfStream: false);
        return Detect(magic[..n]);
    }

    /// <summary>The lower-case name Ferry prints and records: <c>none</c>, <c>gzip</c> or <c>zstd</c>.</summary>
    /// <param name="compression">The compression.</param>
    /// <returns>Its name.</returns>
    public static string Name(DetectedCompression compression) => compression switch
    {
        DetectedCompression.Gzip => "gzip",
        DetectedCompression.Zstd => "zstd",
        _ => "none",
    };

    /// <summary>A stream that decompresses <paramref name="input"/> (or passes it through).</summary>
    /// <param name="input">The compressed stream.</param>
    /// <param name="compression">Its compression.</param>
    /// <param name="leaveOpen">Whether disposing the result leaves <paramref name="input"/> open.</param>
    /// <returns>The decompressing stream.</returns>
    public static Stream Decompress(Stream input, DetectedCompression compression, bool leaveOpen = false) => compression switch
    {
        DetectedCompression.Gzip => new System.IO.Compression.GZipStream(input, System.IO.Compression.CompressionMode.Decompress, leaveOpen),
        DetectedCompression.Zstd => new ZstdSharp.DecompressionStream(input, leaveOpen: leaveOpen),
        _ => leaveOpen ? new Content.ForwardOnlyStream(input) : input,
    };
}
