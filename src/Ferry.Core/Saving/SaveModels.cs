using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.Saving;

/// <summary>What to save, and where.</summary>
public sealed record SaveRequest
{
    /// <summary>The image references, as users write them (<c>nginx:1.27</c>, <c>host:5000/app@sha256:…</c>).</summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>Plain files carried beside the images, each as an OCI artifact laid out as <c>oras push</c> does (<c>--add-file</c>).</summary>
    public IReadOnlyList<Files.FileArtifact> Files { get; init; } = [];

    /// <summary>The output path (file or directory). Ignored when <see cref="OutputStream"/> is set.</summary>
    public string? Output { get; init; }

    /// <summary>A forward-only stream to write the tar to (e.g. stdout) instead of a file.</summary>
    public Stream? OutputStream { get; init; }

    /// <summary>Tar or directory.</summary>
    public ArchiveFormat Format { get; init; } = ArchiveFormat.Tar;

    /// <summary>Which platforms to keep; <see langword="null"/>: the host's from a registry, the one an Engine holds from <see cref="Daemon"/>.</summary>
    public PlatformSelection? Platforms { get; init; }

    /// <summary>Rewrites manifests to OCI or Docker media types (layers and configs untouched); <see langword="null"/> keeps them as the source has them.</summary>
    public Oci.ManifestFormat? ManifestFormat { get; init; }

    /// <summary>How many blobs are downloaded at once, all images together (default 8).</summary>
    public int MaxConcurrentDownloads { get; init; } = 8;

    /// <summary>How many images are resolved at once (1–20, default 4).</summary>
    public int Jobs { get; init; } = 4;

    /// <summary>Pull every image from this registry instead (image-tools' <c>-s</c>); the archive keeps the names as given.</summary>
    public string? SourceRegistry { get; init; }

    /// <summary>
    /// Bulk mode: an image that cannot be resolved (malformed, missing, no matching platform…) is reported in
    /// <see cref="SaveResult.Failed"/> and the others are still saved. Otherwise any failure fails the save.
    /// </summary>
    public bool ContinueOnError { get; init; }

    /// <summary>
    /// Also write <c>OUTPUT.sha256</c> (<c>sha256sum -c</c> format: the archive, or every file of a directory), once the
    /// archive is complete; an up-to-date archive gets one when it has none. Needs an output path, not a stream.
    /// </summary>
    public bool Checksums { get; init; }

    /// <summary>
    /// Split the archive into parts of at most this many bytes — <c>OUTPUT.000</c>, <c>.001</c>, … — for media with a
    /// file-size limit (FAT32's 4 GiB, a DVD). The parts are byte ranges of the one archive: every Ferry command reads the
    /// first part (or any part) as the whole, and <c>cat OUTPUT.* &gt; archive.tar</c> restores it for other tools.
    /// </summary>
    public long? SplitSize { get; init; }

    /// <summary>Compression of the whole archive (tar format only).</summary>
    public Archives.Compression.OuterCompression Compression { get; init; }

    /// <summary>
    /// Continue where an interrupted save of the same output stopped, and keep what a failed or stopped save wrote for
    /// the next run (default). A tar file output (compressed too: its tar step); a split, directory or stream output
    /// starts again. <see langword="false"/>: start from nothing and leave nothing behind (<c>--no-resume</c>).
    /// </summary>
    public bool Resume { get; init; } = true;

    /// <summary>Whether each image's signatures, attestations and SBOMs (referrers API, its fallback tag, cosign's tags) are saved with it. On by default.</summary>
    public bool Referrers { get; init; } = true;

    /// <summary>Signs the archive's <c>index.json</c> with this key (<c>index.json.sig</c> in the archive); <see langword="null"/> leaves it unsigned.</summary>
    public Signing.SigningKey? SignKey { get; init; }

    /// <summary>Images whose layers the archive leaves out (<c>--exclude</c>): a partial (delta) archive.</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Save from this Docker Engine instead of registries (<see langword="null"/>: registries).</summary>
    public Daemon.DockerEndpoint? Daemon { get; init; }

    /// <summary>With <see cref="Daemon"/>: gzip-compress the layers on their way (one-pass tar file output only).</summary>
    public bool CompressLayers { get; init; }

    /// <summary>Rewrite the output even when it already holds exactly the requested images at the same digests (<c>--force</c>).</summary>
    public bool Force { get; init; }

    /// <summary>Names images in the archive other than the source does (a bundle file's <c>as:</c>); <see langword="null"/> keeps the source's names.</summary>
    public Func<References.ImageReference, References.ImageReference>? Rename { get; init; }

    /// <summary>Archives whose images' layers the archive leaves out (<c>--exclude-archive</c>).</summary>
    public IReadOnlyList<string> ExcludeArchives { get; init; } = [];
}

/// <summary>The result of a save.</summary>
/// <param name="Images">Each image saved, in request order.</param>
/// <param name="ArchiveBytes">The size of the archive written (tar) or of the blobs (directory).</param>
/// <param name="DownloadedBytes">The bytes fetched from registries for layers.</param>
/// <param name="Output">The path written, or <see langword="null"/> for a stream.</param>
/// <param name="Failed">The images that could not be saved (bulk mode), in request order.</param>
public sealed record SaveResult(IReadOnlyList<SavedImage> Images, long ArchiveBytes, long DownloadedBytes, string? Output, IReadOnlyList<FailedImage> Failed)
{
    /// <summary>The manifests <see cref="SaveRequest.ManifestFormat"/> rewrote, with their digests before and after.</summary>
    public IReadOnlyList<Transfer.ConvertedManifest> Converted { get; init; } = [];

    /// <summary>What was saved, in one line: images, failures, bytes and where.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        Executed
            ? $"saved {Images.Count} image(s), {ArchiveBytes} bytes to {Output ?? "a stream"}{(Failed.Count > 0 ? $"; {Failed.Count} failed: {string.Join("; ", Failed.Select(f => $"{f.Image}: {f.Reason}"))}" : string.Empty)}"
            : $"{Output} is up to date ({Images.Count} image(s))";

    /// <summary>
    /// Whether anything was written. <see langword="false"/> when the output already held exactly the requested
    /// references at the same digests (no blob was downloaded, nothing was written): "up to date".
    /// </summary>
    public bool Executed { get; init; } = true;

    /// <summary>The parts of a split archive, in order (<see cref="SaveRequest.SplitSize"/>); empty when it is one file.</summary>
    public IReadOnlyList<string> Parts { get; init; } = [];

    /// <summary>The <c>sha256sum -c</c> file written beside the archive (<see cref="SaveRequest.Checksums"/>), if any.</summary>
    public string? ChecksumFile { get; init; }

    /// <summary>The layers left out of a partial archive (empty for a full one).</summary>
    public IReadOnlyList<OmittedBlob> Omitted { get; init; } = [];

    /// <summary>The bytes of every distinct blob of the saved images, left-out layers included, each counted once (what a full archive would hold).</summary>
    public long UniqueBytes { get; init; }
}


/// <summary>Archives to merge into one, and where.</summary>
public sealed record MergeRequest
{
    /// <summary>The archives, in any format Ferry reads; their images keep their names.</summary>
    public required IReadOnlyList<string> Archives { get; init; }

    /// <summary>Rewrites manifests to OCI or Docker media types (layers and configs untouched); <see langword="null"/> keeps them.</summary>
    public Oci.ManifestFormat? ManifestFormat { get; init; }

    /// <summary>How far an archive may go before it is refused (<see langword="null"/>: <see cref="Reading.ArchiveLimits.Default"/>).</summary>
    public Reading.ArchiveLimits? Limits { get; init; }

    /// <summary>The merged archive's path (file or directory).</summary>
    public required string Output { get; init; }

    /// <summary>Tar or directory.</summary>
    public ArchiveFormat Format { get; init; } = ArchiveFormat.Tar;

    /// <summary>Compression of the whole archive (tar format only).</summary>
    public Archives.Compression.OuterCompression Compression { get; init; }

    /// <summary>Rewrite the output even when it already holds these images at the same digests.</summary>
    public bool Force { get; init; }

    /// <summary>Also write <c>OUTPUT.sha256</c> (<c>sha256sum -c</c> format), see <see cref="ChecksumFile"/>.</summary>
    public bool Checksums { get; init; }

    /// <summary>Split the merged archive into parts of at most this many bytes, as <see cref="SaveRequest.SplitSize"/>.</summary>
    public long? SplitSize { get; init; }
}
