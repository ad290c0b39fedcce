using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Daemon;
using Ferry.Loading;
using Ferry.Reading;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Microsoft.Extensions.Logging;

namespace Ferry;

/// <summary>
/// The library's front door: save, load, inspect and verify in one call each, wired the way the <c>ferry</c> CLI
/// wires them (credentials from Docker's and the containers tools' files, certs.d TLS, retries, the one-pass daemon
/// save for plain tar files). Progress arrives as typed events through <see cref="IProgress{T}"/>, detail through
/// <see cref="ILogger"/>; failures are <see cref="Errors.FerryException"/>s, per-image results in bulk runs.
/// </summary>
/// <example>
/// <code>
/// var result = await Images.SaveAsync(new SaveRequest { Images = ["nginx:1.27"], Output = "nginx.tar" });
/// Console.WriteLine(result.Executed ? $"saved {result.ArchiveBytes} bytes" : "up to date");
/// </code>
/// </example>
public static class Images
{
    /// <summary>Saves images from registries (or from <see cref="SaveRequest.Daemon"/>) into one archive.</summary>
    /// <param name="request">What to save and where.</param>
    /// <param name="progress">Typed progress events, in order per image.</param>
    /// <param name="access">How to reach registries: credentials and client options; defaults as the CLI's.</param>
    /// <param name="logger">Detail and warnings (never secrets).</param>
    /// <param name="cancellationToken">Cancels the save; nothing partial is left behind.</param>
    /// <returns>What was saved; <see cref="SaveResult.Executed"/> is false when the output was already up to date.</returns>
    public static async Task<SaveResult> SaveAsync(SaveRequest request, IProgress<TransferEvent>? progress = null, RegistryAccess? access = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        access ??= RegistryAccess.Default;
        if (request.Daemon is { } endpoint)
        {
            using var engine = new DockerEngineClient(endpoint);
            if (IsOnePassDaemonSave(request))
            {
                return await new DaemonDirectSaver(engine, request.CompressLayers).SaveAsync(request, progress, cancellationToken).ConfigureAwait(false);
            }

            if (request.CompressLayers)
            {
                throw new Errors.InvalidInputException("compressing layers (--compress-layers gzip) needs a daemon source and an uncompressed tar file as output (no outer compression, no directory, not a stream, not partial)");
            }

            using var source = new DaemonImageSource(engine);
            return await new ImageSaver(source, logger).SaveAsync(request, progress, cancellationToken).ConfigureAwait(false);
        }

        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        return await new ImageSaver(registry, logger).SaveAsync(request, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Whether a daemon save takes the one-pass path (<see cref="DaemonDirectSaver"/>: every byte written once): an
    /// uncompressed tar file, full (not partial). Other outputs go through the repacking <see cref="DaemonImageSource"/>.
    /// </summary>
    /// <param name="request">The request.</param>
    /// <returns><see langword="true"/> for the one-pass path.</returns>
    public static bool IsOnePassDaemonSave(SaveRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Daemon is not null && request.Output is not null && request.OutputStream is null && request.Format == ArchiveFormat.Tar &&
               request.Compression == OuterCompression.None && request.Exclude.Count == 0 && request.ExcludeArchives.Count == 0;
    }

    /// <summary>Pushes the images of archives into a registry, digests unchanged.</summary>
    /// <param name="request">The archives and the target.</param>
    /// <param name="progress">An event per image.</param>
    /// <param name="access">How to reach the registry.</param>
    /// <param name="logger">Detail and warnings.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What was pushed and what failed.</returns>
    public static async Task<LoadResult> LoadAsync(LoadRequest request, IProgress<LoadEvent>? progress = null, RegistryAccess? access = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        access ??= RegistryAccess.Default;
        using var registry = new RegistryClient(access.Credentials, access.Options, logger);
        return await new ImageLoader(registry).LoadAsync(request, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Loads the images of archives into a Docker Engine.</summary>
    /// <param name="archives">The archives.</param>
    /// <param name="daemon">The Engine; <see langword="null"/> resolves it as the docker CLI does.</param>
    /// <param name="progress">The daemon's progress lines.</param>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>What the daemon loaded and what could not be sent.</returns>
    public static async Task<DaemonLoadResult> LoadIntoDaemonAsync(IReadOnlyList<string> archives, DockerEndpoint? daemon = null, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        using var engine = new DockerEngineClient(daemon ?? DockerEndpointResolver.Resolve(new DockerEndpointOptions()));
        return await new DaemonLoader(engine).LoadAsync(archives, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists an archive's images, platforms, sizes and layers.</summary>
    /// <param name="path">Any archive Ferry reads.</param>
    /// <param name="cancellationToken">Cancels the inspection.</param>
    /// <returns>What it holds.</returns>
    public static Task<InspectResult> InspectAsync(string path, CancellationToken cancellationToken = default) => ArchiveInspector.InspectAsync(path, cancellationToken);

    /// <summary>Checks every blob's digest and size and that every reference resolves.</summary>
    /// <param name="path">Any archive Ferry reads.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>The images and every problem found.</returns>
    public static Task<VerifyResult> VerifyAsync(string path, CancellationToken cancellationToken = default) => ArchiveVerifier.VerifyAsync(path, cancellationToken);
}

/// <summary>How the library reaches registries: where credentials come from, and the client's settings.</summary>
/// <param name="Credentials">The credential provider.</param>
/// <param name="Options">TLS, retries, limits.</param>
public sealed record RegistryAccess(ICredentialProvider Credentials, RegistryClientOptions Options)
{
    /// <summary>As the CLI without flags: Docker's and the containers tools' credential files, default TLS and retries.</summary>
    public static RegistryAccess Default => new(new DefaultCredentialProvider(), new RegistryClientOptions());
}
