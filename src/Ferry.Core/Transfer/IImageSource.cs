using Ferry.Archives;
using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer;

/// <summary>
/// Where the <see cref="TransferEngine"/> takes images from: a registry (<see cref="Sources.RegistrySource"/>), an
/// archive in any format Ferry reads (<see cref="Sources.ArchiveSource"/>) or a Docker Engine
/// (<see cref="Sources.DaemonSource"/>). A source resolves images to verified manifests and configs, and opens blobs
/// as streams that verify digest and size as they are read. It decides nothing about where the bytes go.
/// </summary>
public interface IImageSource
{
    /// <summary>The platforms a run takes when the request names none: the host's from a registry, what is there from an archive or an Engine.</summary>
    PlatformSelection DefaultPlatforms => PlatformSelection.Host;

    /// <summary>Called once with every image of the run (and every excluded one) before any is resolved.</summary>
    /// <param name="images">The images as the source names them.</param>
    /// <param name="platforms">The run's platform selection.</param>
    /// <param name="cancellationToken">Cancels the preparation.</param>
    /// <returns>A task.</returns>
    Task PrepareAsync(IReadOnlyList<string> images, PlatformSelection platforms, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// The name and digest an image would have once transferred, found without reading any blob, for the
    /// up-to-date check; <see langword="null"/> when the source cannot tell.
    /// </summary>
    /// <param name="image">The image as the source names it.</param>
    /// <param name="platforms">The platform selection.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The name and digest, or <see langword="null"/>.</returns>
    Task<ImageIdentity?> PeekAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken) => Task.FromResult<ImageIdentity?>(null);

    /// <summary>Resolves one image to the manifests and configs to transfer, verified.</summary>
    /// <param name="image">The image as the source names it.</param>
    /// <param name="platforms">The platform selection.</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    /// <returns>The resolved image.</returns>
    Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken);

    /// <summary>Opens a blob that is not held in memory; the stream verifies digest and size when read to its end.</summary>
    /// <param name="blob">The blob, with the image it belongs to.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The stream.</returns>
    Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken);

    /// <summary>
    /// Opens a blob's bytes from <paramref name="offset"/> on, to continue a download an earlier run left partway; the
    /// stream is not verified (the caller hashes the prefix it holds with it). <see langword="null"/> when the source
    /// cannot start inside a blob: the blob is then fetched whole.
    /// </summary>
    /// <param name="blob">The blob, with the image it belongs to.</param>
    /// <param name="offset">The first byte wanted.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The rest of the blob, or <see langword="null"/>.</returns>
    Task<Stream?> OpenBlobFromAsync(TransferBlob blob, long offset, CancellationToken cancellationToken) => Task.FromResult<Stream?>(null);

    /// <summary>The layers of these images that the source itself lacks on purpose (a partial archive): the sink must find them at the destination.</summary>
    /// <param name="images">The resolved images.</param>
    /// <returns>The left-out layers (none for a complete source).</returns>
    IReadOnlyList<Archives.Format.OmittedBlob> LeftOut(IReadOnlyList<ResolvedImage> images) => [];
}

/// <summary>
/// A source that can also yield its blobs in its own order, as they arrive, instead of on request — a Docker
/// Engine's export stream. The engine uses this with a sink that accepts blobs in any order (<see cref="IAppendingSink"/>),
/// so the bytes cross the disk once.
/// </summary>
public interface IStreamingImageSource : IImageSource
{
    /// <summary>Streams the requested images' blobs into <paramref name="appender"/> and resolves the images from what arrived.</summary>
    /// <param name="images">The images as the source names them.</param>
    /// <param name="platforms">The run's platform selection: an image the source cannot give for it fails before anything is streamed.</param>
    /// <param name="appender">Takes each blob as it arrives.</param>
    /// <param name="continueOnError">Whether a missing image is a listed failure rather than the end of the run.</param>
    /// <param name="cancellationToken">Cancels the stream.</param>
    /// <returns>Each image resolved (in request order) or why it failed.</returns>
    Task<IReadOnlyList<(ResolvedImage? Image, FerryException? Failure)>> StreamAsync(IReadOnlyList<string> images, PlatformSelection platforms, IBlobAppender appender, bool continueOnError, CancellationToken cancellationToken);
}

/// <summary>What a streaming source writes its blobs into.</summary>
public interface IBlobAppender
{
    /// <summary>Takes one blob of known length whose digest is learnt while it is written.</summary>
    /// <param name="data">The blob's bytes (exactly <paramref name="length"/> of them).</param>
    /// <param name="length">Its length.</param>
    /// <param name="compress">Whether to gzip it on the way (the stored blob is then the compressed bytes).</param>
    /// <param name="expected">The digest the blob must have, when the source names it by digest.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored blob's descriptor (media type empty), the digest of the uncompressed bytes, and the bytes when small enough to be metadata.</returns>
    Task<Reading.HashedBlob> AppendAsync(Stream data, long length, bool compress, Digest? expected, CancellationToken cancellationToken);
}

/// <summary>What identifies an image once transferred, for the up-to-date check.</summary>
/// <param name="Name">The name it is recorded under.</param>
/// <param name="Digest">The digest of what index.json points at — or, when <paramref name="IsConfigDigest"/>, of its config (a daemon's image ID).</param>
/// <param name="IsConfigDigest">Whether <paramref name="Digest"/> is the config's digest.</param>
public sealed record ImageIdentity(ImageReference Name, Digest Digest, bool IsConfigDigest = false)
{
    /// <summary>The digest of the image's config (a Docker Engine's image ID), when the source knows it without reading a blob.</summary>
    public Digest? Config { get; init; }
}
