using Ferry.Archives;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Saving;

/// <summary>Images pulled from registries, honouring the platform selection and a source-registry override.</summary>
/// <param name="registry">The registry client.</param>
public sealed class RegistryImageSource(RegistryClient registry) : IImageSource
{
    /// <inheritdoc />
    public Task PrepareAsync(IReadOnlyList<string> images, SaveRequest request, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    public async Task<ImageIdentity?> PeekAsync(string image, SaveRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = ImageReference.Parse(image);
        var source = request.SourceRegistry is { Length: > 0 } override_ ? name.WithRegistry(override_) : name;
        var top = await new ImageResolver(registry, request.Platforms).ResolveTopAsync(source, cancellationToken).ConfigureAwait(false);
        return new ImageIdentity(name, top.Digest);
    }

    /// <inheritdoc />
    public Task<ResolvedImage> ResolveAsync(string image, SaveRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = ImageReference.Parse(image);
        var source = request.SourceRegistry is { Length: > 0 } override_ ? name.WithRegistry(override_) : name;
        return new ImageResolver(registry, request.Platforms).ResolveAsync(name, source, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<Stream> OpenBlobAsync(LayoutBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return await registry.OpenBlobAsync(blob.Source!, blob.Descriptor, cancellationToken).ConfigureAwait(false);
    }
}
