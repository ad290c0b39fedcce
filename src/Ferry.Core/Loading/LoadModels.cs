using Ferry.References;

namespace Ferry.Loading;

/// <summary>What to load where.</summary>
public sealed record LoadRequest
{
    /// <summary>Archives to read (any format Ferry reads).</summary>
    public required IReadOnlyList<string> Archives { get; init; }

    /// <summary>
    /// The target: <c>host[:port]</c>, optionally followed by a path prefix (<c>registry:5000/mirror</c>); each image keeps
    /// its repository path and tag under it. <see langword="null"/> with <see cref="As"/>.
    /// </summary>
    public string? Target { get; init; }

    /// <summary>The full name of the one image to push (<c>registry:5000/team/app:2.0</c>): also names an unnamed image.</summary>
    public string? As { get; init; }

    /// <summary>Only these images of the archives (every image when empty): names, or top-manifest digests (<c>sha256:…</c>) for unnamed images.</summary>
    public IReadOnlyList<string> Images { get; init; } = [];

    /// <summary>Which platforms of each image to push (<see langword="null"/>: every platform into a registry, the Engine's own into an Engine; a subset gets a new index).</summary>
    public Ferry.References.PlatformSelection? Platforms { get; init; }

    /// <summary>Rewrites manifests to OCI or Docker media types on the way (layers and configs untouched); <see langword="null"/> keeps them.</summary>
    public Oci.ManifestFormat? ManifestFormat { get; init; }

    /// <summary>How far an archive may go before it is refused (<see langword="null"/>: <see cref="Reading.ArchiveLimits.Default"/>).</summary>
    public Reading.ArchiveLimits? Limits { get; init; }

    /// <summary>What an archive named <c>-</c> reads (stdin).</summary>
    public Stream? Stdin { get; init; }

    /// <summary>Images pushed concurrently (1–20).</summary>
    public int Jobs { get; init; } = 4;

    /// <summary>A repository of the target registry that holds the layers a partial archive leaves out (<c>--mount-from</c>).</summary>
    public string? MountFrom { get; init; }

    /// <summary>Blob uploads in flight, all images together.</summary>
    public int MaxConcurrentUploads { get; init; } = 8;

    /// <summary>
    /// Bulk mode, as for <see cref="Saving.SaveRequest.ContinueOnError"/>: an image that fails is listed in
    /// <see cref="LoadResult.Failed"/> and the others go on. Otherwise the load throws a <see cref="Errors.FerryException"/>
    /// naming the first failure once the run ends (images already pushed stay pushed: a registry has no transactions).
    /// </summary>
    public bool ContinueOnError { get; init; }

    /// <summary>Push every image even where the registry's tag already points at the archive's digest (by default such an image is skipped after one <c>HEAD</c>).</summary>
    public bool Force { get; init; }

    /// <summary>Whether the signatures, attestations and SBOMs the archive carries are pushed with their images (after them). On by default.</summary>
    public bool Referrers { get; init; } = true;

    /// <summary>
    /// Refuse, before anything is pushed, every image that no signature by this key vouches for — its own cosign
    /// signature, or the bundle's signature over index.json; <see langword="null"/> requires none.
    /// </summary>
    public Signing.SignaturePolicy? RequireSignature { get; init; }
}

/// <summary>One image pushed.</summary>
/// <param name="Source">The name in the archive.</param>
/// <param name="Target">Where it was pushed.</param>
/// <param name="Digest">The digest of its manifest or index (equal to the source's when the archive carried registry manifests).</param>
/// <param name="BuiltFromLayers">Whether Ferry built the manifest (legacy docker-archive input).</param>
/// <param name="Uploaded">Blobs uploaded.</param>
/// <param name="Mounted">Blobs mounted from another repository of the target registry.</param>
/// <param name="Existing">Blobs the target repository already had.</param>
/// <param name="UploadedBytes">Bytes uploaded.</param>
public sealed record LoadedImage(string Source, ImageReference Target, Digest Digest, bool BuiltFromLayers, int Uploaded, int Mounted, int Existing, long UploadedBytes);

/// <summary>One image that could not be loaded.</summary>
/// <param name="Source">Its name in the archive (or a description when unnamed).</param>
/// <param name="Archive">The archive it came from.</param>
/// <param name="Message">What went wrong, one line.</param>
public sealed record LoadFailure(string Source, string Archive, string Message)
{
    /// <summary>What <see cref="LoadRequest.Images"/> (<c>--image</c>) takes to select this image again: its name, else its digest.</summary>
    public string Selector { get; init; } = Source;

    /// <summary>What kind of failure it was.</summary>
    public Transfer.FailureKind Kind { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Source} ({Archive}): {Message}";
}

/// <summary>The outcome of a load.</summary>
/// <param name="Images">What was pushed.</param>
/// <param name="Failed">What was not.</param>
public sealed record LoadResult(IReadOnlyList<LoadedImage> Images, IReadOnlyList<LoadFailure> Failed)
{
    /// <summary>The manifests <see cref="LoadRequest.ManifestFormat"/> rewrote, with their digests before and after.</summary>
    public IReadOnlyList<Transfer.ConvertedManifest> Converted { get; init; } = [];

    /// <summary>The images the registry already held under their names at the archive's digests: skipped, nothing of them pushed.</summary>
    public IReadOnlyList<Transfer.UnchangedImage> Unchanged { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, (nameof(Images), Images), (nameof(Failed), Failed), (nameof(Unchanged), Unchanged), (nameof(Converted), Converted));
}

/// <summary>Progress of a load.</summary>
public abstract record LoadEvent : Transfer.TransferEvent;

/// <summary>An image was pushed.</summary>
/// <param name="Image">The result.</param>
public sealed record ImageLoadedEvent(LoadedImage Image) : LoadEvent;

/// <summary>The registry already held an image under its name at the archive's digest: it was skipped.</summary>
/// <param name="Image">Which image, where, at which digest.</param>
public sealed record ImageAlreadyLoadedEvent(Transfer.UnchangedImage Image) : LoadEvent;

/// <summary>Blob bytes were uploaded (reported per chunk, for live progress).</summary>
/// <param name="Bytes">The bytes just sent.</param>
public sealed record LoadBytesEvent(long Bytes) : LoadEvent;

/// <summary>An image failed.</summary>
/// <param name="Failure">What went wrong.</param>
public sealed record ImageLoadFailedEvent(LoadFailure Failure) : LoadEvent;

/// <summary>What a daemon load did.</summary>
/// <param name="Loaded">The daemon's own report lines (<c>Loaded image: …</c>).</param>
/// <param name="Failed">Images that could not be sent (no manifest for the daemon's platform, zstd layers, broken blobs).</param>
public sealed record DaemonLoadResult(IReadOnlyList<string> Loaded, IReadOnlyList<LoadFailure> Failed)
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) => Diagnostics.Printed.Members(builder, (nameof(Loaded), Loaded), (nameof(Failed), Failed));
}
