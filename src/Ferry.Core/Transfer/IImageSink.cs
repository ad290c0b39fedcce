namespace Ferry.Transfer;

/// <summary>
/// Where the <see cref="TransferEngine"/> puts images: an archive (<see cref="Sinks.ArchiveSink"/>), a registry
/// (<see cref="Sinks.RegistrySink"/>) or a Docker Engine (<see cref="Sinks.DaemonSink"/>). A sink receives the whole
/// run's plan — every image and every distinct blob once — and decides how each blob lands (an archive plans every
/// offset first and takes blobs in any order; a registry skips, mounts or uploads each blob once); it commits
/// atomically or leaves nothing behind. One sink instance serves one run.
/// </summary>
public interface IImageSink
{
    /// <summary>Whether the sink can hold a partial (delta) transfer that leaves layers out.</summary>
    bool AcceptsPartial { get; }

    /// <summary>
    /// The platforms this destination takes, given what the request asked for (<see langword="null"/>: nothing, the
    /// source's default applies). A Docker Engine takes one platform per image: its own unless one is named.
    /// </summary>
    /// <param name="requested">The request's selection.</param>
    /// <param name="cancellationToken">Cancels any lookup.</param>
    /// <returns>The selection to use, or <see langword="null"/> for the source's default.</returns>
    /// <exception cref="Errors.InvalidInputException">The destination cannot take the requested platforms.</exception>
    Task<Ferry.References.PlatformSelection?> PlatformsAsync(Ferry.References.PlatformSelection? requested, CancellationToken cancellationToken) => Task.FromResult(requested);

    /// <summary>
    /// Idempotence: whether the destination already holds exactly these images, intact; <see langword="null"/> when
    /// it does not (or the sink cannot tell), in which case the run goes ahead.
    /// </summary>
    /// <param name="request">The run.</param>
    /// <param name="peek">Asks the source for an image's identity without reading blobs.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The report of the destination as it is, or <see langword="null"/>.</returns>
    Task<SinkReport?> CheckUpToDateAsync(TransferRequest request, Func<string, CancellationToken, Task<ImageIdentity?>> peek, CancellationToken cancellationToken) =>
        Task.FromResult<SinkReport?>(null);

    /// <summary>Transfers the planned images: blobs (each at most once), then manifests children first, then names.</summary>
    /// <param name="plan">The run's plan.</param>
    /// <param name="context">Opens blobs at the source and reports progress with identity.</param>
    /// <param name="cancellationToken">Cancels the transfer; nothing half-written is left.</param>
    /// <returns>What the sink did.</returns>
    Task<SinkReport> WriteAsync(TransferPlan plan, TransferContext context, CancellationToken cancellationToken);
}

/// <summary>
/// A destination that keeps images by name and can say, per image and without reading a blob, that it already holds
/// one at the digest the source names now: an incremental mirror skips it (<see cref="TransferResult.Unchanged"/>).
/// A registry asks its tag with one <c>HEAD</c>; a Docker Engine compares the image ID with the config digest.
/// </summary>
public interface IIncrementalSink : IImageSink
{
    /// <summary>Where the destination holds the image under its name at its digest already, if it does.</summary>
    /// <param name="image">The image's name (before the destination's own naming, e.g. a target registry's prefix) and digest (and config digest when the source knows it).</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>Its full name at the destination when there is nothing to transfer for it; otherwise <see langword="null"/>.</returns>
    Task<References.ImageReference?> FindHeldAsync(ImageIdentity image, CancellationToken cancellationToken);
}

/// <summary>A sink whose report is always a <typeparamref name="TReport"/>: <see cref="TransferEngine.RunAsync{TReport}"/> then returns it typed.</summary>
/// <typeparam name="TReport">The report's type.</typeparam>
public interface IImageSink<TReport> : IImageSink
    where TReport : SinkReport;

/// <summary>A sink that takes blobs in the order a streaming source yields them (a tar file with positional writes).</summary>
public interface IAppendingSink : IImageSink
{
    /// <summary>Whether this sink, as configured, can take appended blobs (an uncompressed tar file can; a stream cannot).</summary>
    bool CanAppend { get; }

    /// <summary>Starts taking blobs; the returned appender is finished by <see cref="FinishAppendAsync"/>.</summary>
    /// <returns>The appender.</returns>
    IBlobAppender BeginAppend();

    /// <summary>Writes what the plan still needs (manifests, configs, index files), then commits.</summary>
    /// <param name="plan">The run's plan, built from what was appended.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>What the sink did.</returns>
    Task<SinkReport> FinishAppendAsync(TransferPlan plan, CancellationToken cancellationToken);

    /// <summary>Removes everything appended (the run failed or was cancelled).</summary>
    void AbandonAppend();
}

/// <summary>What a sink reports; each sink has its own kind, and every kind carries the images it could not take.</summary>
public abstract record SinkReport
{
    /// <summary>Images the sink could not take (the run went on with the others); the engine puts them in <see cref="TransferResult.Failed"/>.</summary>
    public IReadOnlyList<FailedImage> Failed { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected virtual bool PrintMembers(System.Text.StringBuilder builder) => Diagnostics.Printed.Members(builder, (nameof(Failed), Failed));
}
