using Ferry.Loading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.Copying;

/// <summary>
/// What to copy where: images from one kind of source (a registry, a Docker Engine, archives) into one destination
/// (a registry, an Engine, an archive), in skopeo's transport syntax or as registry references and a target registry.
/// </summary>
public sealed record CopyRequest
{
    /// <summary>
    /// The images: registry references (<c>name[:tag][@digest]</c>, or <c>docker://…</c>), <c>docker-daemon:NAME</c>,
    /// or archives (<c>docker-archive:PATH[:REF]</c>, <c>oci-archive:PATH[:REF]</c>, <c>oci:DIR[:REF]</c>,
    /// <c>ferry-archive:PATH[:REF]</c>, an existing path). All of one kind.
    /// </summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>A target registry <c>host[:port][/prefix]</c>: every image keeps its repository and tag under it. Exclusive with <see cref="Destination"/> and <see cref="As"/>.</summary>
    public string? Target { get; init; }

    /// <summary>
    /// The destination in transport syntax: <c>docker://REF</c> (the full name of one image, or a registry prefix for
    /// several), <c>docker-daemon:[NAME:TAG]</c>, <c>docker-archive:PATH[:REF]</c>, <c>oci-archive:PATH[:REF]</c>,
    /// <c>oci:DIR[:REF]</c>, <c>ferry-archive:PATH[:REF]</c> or a path ending in <c>.tar</c>/<c>.tar.gz</c>/<c>.tar.zst</c>.
    /// </summary>
    public string? Destination { get; init; }

    /// <summary>Plain files copied beside the images, each as an OCI artifact laid out as <c>oras push</c> does (a bundle file's <c>files:</c>).</summary>
    public IReadOnlyList<Files.FileArtifact> Files { get; init; } = [];

    /// <summary>Names images at the destination other than the source does (a bundle file's <c>as:</c>), before a target registry's prefix applies; <see langword="null"/> keeps them.</summary>
    public Func<ImageReference, ImageReference>? Rename { get; init; }

    /// <summary>The full registry name of the one image (<c>copy SRC --as REGISTRY/REPOSITORY:TAG</c>).</summary>
    public string? As { get; init; }

    /// <summary>Which platforms; <see langword="null"/>: the host's from a registry, what is there from an archive or an Engine, the Engine's own into an Engine.</summary>
    public PlatformSelection? Platforms { get; init; }

    /// <summary>How many images are resolved and pushed at once (1-20).</summary>
    public int Jobs { get; init; } = 4;

    /// <summary>How many blobs move at once, all images together (1-64).</summary>
    public int MaxConcurrentTransfers { get; init; } = 8;

    /// <summary>Pull registry images from this registry instead; the destination keeps the names as written.</summary>
    public string? SourceRegistry { get; init; }

    /// <summary>An image that fails is listed and the others go on; otherwise the first failure throws.</summary>
    public bool ContinueOnError { get; init; }

    /// <summary>
    /// Copy every image even where the destination already has it at the source's digest (a registry's tag, an
    /// Engine's image ID); by default such an image is skipped after one lookup, with no blob request.
    /// </summary>
    public bool Force { get; init; }

    /// <summary>Whether signatures, attestations and SBOMs go with each image (registry and archive destinations).</summary>
    public bool Referrers { get; init; } = true;

    /// <summary>Rewrites manifests to OCI or Docker media types (layers and configs untouched); <see langword="null"/> keeps them.</summary>
    public Oci.ManifestFormat? ManifestFormat { get; init; }

    /// <summary>How far an archive may go before it is refused (<see langword="null"/>: <see cref="Reading.ArchiveLimits.Default"/>).</summary>
    public Reading.ArchiveLimits? Limits { get; init; }

    /// <summary>How to reach the destination registry when it needs other credentials than the source (skopeo's <c>--dest-creds</c>); <see langword="null"/>: the same as the source.</summary>
    public RegistryAccess? DestinationAccess { get; init; }

    /// <summary>Transports of your own (a prefix and how it opens a source or sink), checked before the built-in ones.</summary>
    public IReadOnlyList<Transfer.ImageTransport> Transports { get; init; } = [];

    /// <summary>The Docker Engine for <c>docker-daemon:</c> sources and destinations; <see langword="null"/> resolves it as the docker CLI does.</summary>
    public Daemon.DockerEndpoint? Daemon { get; init; }
}

/// <summary>What a copy did.</summary>
/// <param name="Images">Each image that arrived: where from, its name and digest at the destination, what moved.</param>
/// <param name="Failed">The images that failed, in request order.</param>
public sealed record CopyResult(IReadOnlyList<LoadedImage> Images, IReadOnlyList<FailedImage> Failed)
{
    /// <summary>The images the destination already held at the source's digest: skipped, nothing of them moved.</summary>
    public IReadOnlyList<UnchangedImage> Unchanged { get; init; } = [];

    /// <summary>The archive written, for an archive destination.</summary>
    public string? Output { get; init; }

    /// <summary>The archive's size in bytes, for an archive destination.</summary>
    public long ArchiveBytes { get; init; }

    /// <summary>What a Docker Engine destination reported (<c>Loaded image: …</c>).</summary>
    public IReadOnlyList<string> DaemonLoaded { get; init; } = [];

    /// <summary>The manifests <see cref="CopyRequest.ManifestFormat"/> rewrote, with their digests before and after.</summary>
    public IReadOnlyList<Transfer.ConvertedManifest> Converted { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, (nameof(Images), Images), (nameof(Failed), Failed), (nameof(Unchanged), Unchanged), (nameof(Output), Output), (nameof(ArchiveBytes), ArchiveBytes), (nameof(DaemonLoaded), DaemonLoaded), (nameof(Converted), Converted));
}
