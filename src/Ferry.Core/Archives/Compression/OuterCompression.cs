namespace Ferry.Archives.Compression;

/// <summary>The compression of the archive as a whole (layers inside stay as the registry served them).</summary>
public enum OuterCompression
{
    /// <summary>A plain tar: the only form every reader accepts.</summary>
    None,

    /// <summary>gzip (independent members, compressed on all cores); docker load 20.10 reads it.</summary>
    Gzip,

    /// <summary>zstd (independent frames, compressed on all cores); Docker 23+, podman, skopeo read it.</summary>
    Zstd,
}
