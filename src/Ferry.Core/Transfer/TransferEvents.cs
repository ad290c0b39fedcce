using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer;

/// <summary>A progress event of a transfer.</summary>
public abstract record TransferEvent;

/// <summary>An image's manifests and configs were fetched and verified.</summary>
/// <param name="Image">What will be saved.</param>
/// <param name="Position">1-based position in the request.</param>
/// <param name="Count">Number of images requested.</param>
public sealed record ImageResolvedEvent(SavedImage Image, int Position, int Count) : TransferEvent;

/// <summary>An image could not be resolved (bulk mode goes on without it).</summary>
/// <param name="Failure">Which image and why.</param>
/// <param name="Count">Number of images requested.</param>
public sealed record ImageFailedEvent(FailedImage Failure, int Count) : TransferEvent;

/// <summary>The destination already holds an image at the source's digest; it is skipped (see <see cref="IIncrementalSink"/>).</summary>
/// <param name="Image">Which image, where, at which digest.</param>
/// <param name="Count">Number of images requested.</param>
public sealed record ImageUnchangedEvent(UnchangedImage Image, int Count) : TransferEvent;

/// <summary>
/// Every blob of an image is written at the destination: into the archive, uploaded to the registry, or sent to the
/// Engine. A registry sink then pushes the manifests and the tag and reports <see cref="Sinks.ImagePushedEvent"/>;
/// for an archive, the image is saved once the run commits.
/// </summary>
/// <param name="Image">The image.</param>
/// <param name="Position">1-based position in the request.</param>
/// <param name="Count">Number of images requested.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record ImageWrittenEvent(SavedImage Image, int Position, int Count, TimeSpan Elapsed) : TransferEvent;

/// <summary>All manifests are known; layer downloads start.</summary>
/// <param name="Blobs">The number of distinct layer blobs to download.</param>
/// <param name="TotalBytes">The bytes the layers to download take.</param>
public sealed record DownloadStartedEvent(int Blobs, long TotalBytes) : TransferEvent;

/// <summary>Layer bytes were written (reported per chunk of up to 1 MiB, for live progress).</summary>
/// <param name="Bytes">The bytes just written.</param>
public sealed record BytesTransferredEvent(long Bytes) : TransferEvent
{
    /// <summary>The blob the bytes belong to (<see langword="null"/> when the source streams several at once).</summary>
    public Digest? Blob { get; init; }

    /// <summary>The 1-based request positions of the images that share the blob.</summary>
    public IReadOnlyList<int> Positions { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Bytes = {Bytes}, Blob = {Blob?.Short}, Positions = [{string.Join(", ", Positions)}]");
        return true;
    }
}

/// <summary>A layer was downloaded, verified and written.</summary>
/// <param name="Digest">The layer's digest.</param>
/// <param name="Size">Its size.</param>
/// <param name="DoneBytes">The layer bytes done so far, all layers together.</param>
/// <param name="TotalBytes">The layer bytes to download in all.</param>
public sealed record BlobCompletedEvent(Digest Digest, long Size, long DoneBytes, long TotalBytes) : TransferEvent
{
    /// <summary>The 1-based request positions of the images that share the blob.</summary>
    public IReadOnlyList<int> Positions { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Digest = {Digest.Short}, Size = {Size}, DoneBytes = {DoneBytes}, TotalBytes = {TotalBytes}, Positions = [{string.Join(", ", Positions)}]");
        return true;
    }
}

/// <summary>An earlier, interrupted save of the same output left blobs that this one takes up (each is checked before it counts).</summary>
/// <param name="Path">The file the earlier run left (the archive's data as written so far).</param>
/// <param name="EarlierBytes">The blob bytes it holds for this plan, not yet checked.</param>
public sealed record ResumingEvent(string Path, long EarlierBytes) : TransferEvent;

/// <summary>A save that failed or was stopped kept what it had written so that the same command continues from there.</summary>
/// <param name="Path">The file kept beside the output.</param>
/// <param name="KeptBytes">The blob bytes it holds.</param>
public sealed record ResumeKeptEvent(string Path, long KeptBytes) : TransferEvent;

/// <summary>Something beside the output was not as Ferry left it and was left alone (a planted link, a directory at a resume name); the run goes on without it.</summary>
/// <param name="Message">What was found, where, and what the run does instead.</param>
public sealed record OutputWarningEvent(string Message) : TransferEvent;
