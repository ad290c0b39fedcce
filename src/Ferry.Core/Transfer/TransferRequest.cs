using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer;

/// <summary>One run of the <see cref="TransferEngine"/>: which images, which platforms, how much at once.</summary>
public sealed record TransferRequest
{
    /// <summary>The images, as the source names them (references for a registry or daemon; keys for an archive).</summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>Which platforms to keep; <see langword="null"/>: the destination's rule, else the source's default (<see cref="IImageSource.DefaultPlatforms"/>).</summary>
    public PlatformSelection? Platforms { get; init; }

    /// <summary>How many images are resolved (and, by a registry sink, pushed) at once (1–20).</summary>
    public int Jobs { get; init; } = 4;

    /// <summary>How many blobs move at once, all images together.</summary>
    public int MaxConcurrentTransfers { get; init; } = 8;

    /// <summary>Bulk mode: an image that fails is listed and the others go on. Otherwise any failure ends the run.</summary>
    public bool ContinueOnError { get; init; }

    /// <summary>Images whose layers are left out (a partial transfer; sinks that accept it only).</summary>
    public IReadOnlyList<string> Exclude { get; init; } = [];

    /// <summary>Archives whose images' layers are left out.</summary>
    public IReadOnlyList<string> ExcludeArchives { get; init; } = [];

    /// <summary>
    /// Checked for each image once resolved, before anything of the run is transferred: an answer refuses the image with
    /// that reason (a listed failure in bulk mode). <c>ferry load --require-signature</c> refuses unsigned images this way.
    /// </summary>
    public Func<string, ResolvedImage, CancellationToken, Task<string?>>? Admit { get; init; }

    /// <summary>
    /// The name each image takes at the destination, from the name it has at the source (<c>copy --as</c>, a destination
    /// reference); <see langword="null"/> keeps the names.
    /// </summary>
    public Func<References.ImageReference, References.ImageReference>? Rename { get; init; }

    /// <summary>Rewrites manifests to one family of media types (<c>--manifest-format</c>); <see langword="null"/> keeps them as they are.</summary>
    public Oci.ManifestFormat? ManifestFormat { get; init; }

    /// <summary>Transfer even when the destination is up to date, or already holds an image at the source's digest.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// A blob cache a directory output may hard-link blobs from instead of copying them (each entry checked against its
    /// digest first): the sink's shortcut, not the source's business.
    /// </summary>
    public Caching.BlobCache? LinkCache { get; init; }

    /// <summary>Whether layers are left out.</summary>
    public bool IsPartial => Exclude.Count > 0 || ExcludeArchives.Count > 0;

    internal void Validate()
    {
        if (Images.Count == 0)
        {
            throw new InvalidInputException("no image given");
        }

        if (Jobs is < 1 or > 20)
        {
            throw new InvalidInputException($"jobs must be between 1 and 20, not {Jobs}");
        }

        if (MaxConcurrentTransfers is < 1 or > 64)
        {
            throw new InvalidInputException($"concurrent transfers must be between 1 and 64, not {MaxConcurrentTransfers}");
        }
    }
}

/// <summary>The outcome of a run.</summary>
/// <param name="Plan">What was planned (empty when nothing was transferred).</param>
/// <param name="Failed">The images that could not be transferred, in request order: those that did not resolve and those the sink could not take, each with its <see cref="FailedImage.Kind"/>.</param>
/// <param name="Report">What the sink did.</param>
public record TransferResult(TransferPlan Plan, IReadOnlyList<FailedImage> Failed, SinkReport? Report)
{
    /// <summary>Whether anything was written: <see langword="false"/> when the destination was already up to date.</summary>
    public bool Executed { get; init; } = true;

    /// <summary>The images the destination already held at the source's digest, skipped without a blob request (<see cref="IIncrementalSink"/>).</summary>
    public IReadOnlyList<UnchangedImage> Unchanged { get; init; } = [];

    /// <summary>The manifests and indexes <see cref="TransferRequest.ManifestFormat"/> rewrote, with their digests before and after.</summary>
    public IReadOnlyList<ConvertedManifest> Converted { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, ("Images", Plan.Images.Select(i => $"{i.Image.Reference}@{i.Image.Top.Digest.Short}")), (nameof(Failed), Failed), (nameof(Unchanged), Unchanged), (nameof(Report), Report), (nameof(Executed), Executed), (nameof(Converted), Converted));
}

/// <summary>The outcome of a run into a sink whose report has a known type (<see cref="IImageSink{TReport}"/>): the report comes typed.</summary>
/// <typeparam name="TReport">The sink's report.</typeparam>
public sealed record TransferResult<TReport> : TransferResult
    where TReport : SinkReport
{
    internal TransferResult(TransferResult result, TReport? report)
        : base(result)
    {
        Report = report;
    }

    /// <summary>What the sink did (<see langword="null"/> when nothing reached it).</summary>
    public new TReport? Report { get; }

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder) => base.PrintMembers(builder);
}
