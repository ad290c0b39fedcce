using Ferry.References;

namespace Ferry.Transfer.Sources;

/// <summary>
/// A source and plain files in one run (<c>ferry save IMAGE --add-file FILE</c>): each image and each blob is asked of
/// the side that has it; everything else is the main source's.
/// </summary>
/// <param name="main">The images' source (a registry, an archive).</param>
/// <param name="files">The files.</param>
public sealed class CombinedSource(IImageSource main, FileArtifactSource files) : IImageSource
{
    /// <inheritdoc />
    public PlatformSelection DefaultPlatforms => main.DefaultPlatforms;

    /// <inheritdoc />
    public Task PrepareAsync(IReadOnlyList<string> images, PlatformSelection platforms, CancellationToken cancellationToken) =>
        main.PrepareAsync([.. images.Where(i => !files.Owns(i))], platforms, cancellationToken);

    /// <inheritdoc />
    public Task<ImageIdentity?> PeekAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken) =>
        (files.Owns(image) ? files : main).PeekAsync(image, platforms, cancellationToken);

    /// <inheritdoc />
    public Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken) =>
        (files.Owns(image) ? files : main).ResolveAsync(image, platforms, cancellationToken);

    /// <inheritdoc />
    public Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken) =>
        (files.Serves(blob) ? files : main).OpenBlobAsync(blob, cancellationToken);

    /// <inheritdoc />
    public Task<Stream?> OpenBlobFromAsync(TransferBlob blob, long offset, CancellationToken cancellationToken) =>
        (files.Serves(blob) ? files : main).OpenBlobFromAsync(blob, offset, cancellationToken);

    /// <inheritdoc />
    public IReadOnlyList<Archives.Format.OmittedBlob> LeftOut(IReadOnlyList<ResolvedImage> images) => main.LeftOut(images);
}
