namespace Ferry.Archives;

/// <summary>The form of the output.</summary>
public enum ArchiveFormat
{
    /// <summary>One uncompressed tar (OCI layout + docker-archive).</summary>
    Tar,

    /// <summary>The same layout as a plain directory.</summary>
    Directory,
}
