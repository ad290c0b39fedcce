using Ferry.Archives;

namespace Ferry.Saving;

/// <summary>
/// Where <see cref="ImageSaver"/> takes images from: a registry (<see cref="RegistryImageSource"/>) or a Docker
/// Engine (<see cref="DaemonImageSource"/>). The saver resolves every image first, then streams the blobs the
/// resolved images need into the archive.
/// </summary>
public interface IImageSource
{
    /// <summary>Called once with every requested image before any is resolved (a daemon exports them all in one stream).</summary>
    /// <param name="images">The images as the user wrote them.</param>
    /// <param name="request">The whole request.</param>
    /// <param name="cancellationToken">Cancels the preparation.</param>
    /// <returns>A task.</returns>
    Task PrepareAsync(IReadOnlyList<string> images, SaveRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// The name and digest an image would have in the archive, found without downloading any blob, for the
    /// up-to-date check; <see langword="null"/> when the source cannot tell.
    /// </summary>
    /// <param name="image">The image as the user wrote it.</param>
    /// <param name="request">The whole request.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The name and digest, or <see langword="null"/>.</returns>
    Task<ImageIdentity?> PeekAsync(string image, SaveRequest request, CancellationToken cancellationToken);

    /// <summary>Resolves one image to the manifests and configs to save, verified.</summary>
    /// <param name="image">The image as the user wrote it.</param>
    /// <param name="request">The whole request (platforms, source-registry override).</param>
    /// <param name="cancellationToken">Cancels the resolution.</param>
    /// <returns>The resolved image.</returns>
    Task<ResolvedImage> ResolveAsync(string image, SaveRequest request, CancellationToken cancellationToken);

    /// <summary>Opens a blob that is not held in memory; the stream verifies digest and size when read to its end.</summary>
    /// <param name="blob">The blob.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The stream.</returns>
    Task<Stream> OpenBlobAsync(LayoutBlob blob, CancellationToken cancellationToken);
}

/// <summary>What identifies an image in an archive, for the up-to-date check.</summary>
/// <param name="Name">The name it is recorded under.</param>
/// <param name="Digest">The digest of what index.json points at — or, when <paramref name="IsConfigDigest"/>, of its config (a daemon's image ID).</param>
/// <param name="IsConfigDigest">Whether <paramref name="Digest"/> is the config's digest.</param>
public sealed record ImageIdentity(References.ImageReference Name, References.Digest Digest, bool IsConfigDigest = false);
