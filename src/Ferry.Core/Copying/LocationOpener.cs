using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Loading;
using Ferry.Reading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Saving;
using Ferry.Transfer;
using Ferry.Transfer.Sinks;
using Ferry.Transfer.Sources;
using Microsoft.Extensions.Logging;

namespace Ferry.Copying;

/// <summary>A source opened from <see cref="ImageLocation"/>s: the source, the images to ask it for, and what to dispose after the run.</summary>
/// <param name="Source">The source.</param>
/// <param name="Images">The images as the source names them.</param>
/// <param name="Describe">How an image is shown in results and failed lists.</param>
internal sealed record OpenedSource(IImageSource Source, IReadOnlyList<string> Images, Func<string, string> Describe);

/// <summary>
/// Turns transport references into sources and sinks: the one place that knows which class serves which transport, so
/// every pair of the nine (registry, Engine, archive → registry, Engine, archive) is the same engine run.
/// </summary>
/// <param name="access">How the source registry is reached.</param>
/// <param name="destinationAccess">How the destination registry is reached (the source's when <see langword="null"/>).</param>
/// <param name="daemon">The Docker Engine for <c>docker-daemon:</c>.</param>
/// <param name="logger">Detail.</param>
/// <param name="transports">Transports registered for the run.</param>
internal sealed class LocationOpener(RegistryAccess access, RegistryAccess? destinationAccess, DockerEndpoint? daemon, ILogger? logger, IReadOnlyList<ImageTransport> transports) : IDisposable
{
    private readonly List<IDisposable> _owned = [];
    private RegistryClient? _registry;
    private DockerEngineClient? _engine;

    /// <summary>Opens the source every location names; they must be of one kind (one run reads one source).</summary>
    public async Task<OpenedSource> OpenSourceAsync(IReadOnlyList<ImageLocation> locations, string? sourceRegistry, ArchiveSelection reading, CancellationToken cancellationToken)
    {
        var kinds = locations.Select(l => l.Kind).Distinct().ToList();
        if (kinds.Count != 1)
        {
            throw new InvalidInputException($"one copy reads one kind of source, not {string.Join(" and ", kinds.Select(k => k.ToString().ToLowerInvariant()))} together; run one copy per kind");
        }

        switch (kinds[0])
        {
            case LocationKind.Registry:
                return new OpenedSource(new RegistrySource(SourceRegistry(), sourceRegistry) { Referrers = reading.Referrers }, locations.Select(l => l.Reference!).ToList(), i => i);
            case LocationKind.Registered:
                if (locations.Count != 1)
                {
                    throw new InvalidInputException($"{locations[0].Transport} takes one source reference per copy");
                }

                var opened = await Registered(locations[0]).SourceAsync(locations[0].Reference!, cancellationToken).ConfigureAwait(false);
                if (opened.Source is IDisposable disposable)
                {
                    Own(disposable);
                }

                return new OpenedSource(opened.Source, opened.Images, i => i);
            case LocationKind.Daemon:
                var daemonSource = Own(new DaemonSource(Engine()));
                return new OpenedSource(daemonSource, locations.Select(l => l.Reference!).ToList(), i => "docker-daemon:" + i);
            default:
                var paths = locations.Select(l => l.Path!).Distinct(StringComparer.Ordinal).ToList();
                var selected = locations.Where(l => l.Reference is not null).Select(l => l.Reference!).ToList();
                var archive = Own(await ArchiveSource.OpenAsync(paths, reading with { Images = selected }, cancellationToken: cancellationToken).ConfigureAwait(false));
                return new OpenedSource(archive, archive.Keys, archive.Describe);
        }
    }

    /// <summary>Opens the sink a destination names.</summary>
    /// <param name="destination">The destination.</param>
    /// <param name="target">Where registry images go when the destination is a registry prefix.</param>
    /// <param name="limits">How far unpacked layers may grow (an Engine destination unpacks them on the way).</param>
    /// <returns>The sink.</returns>
    public IImageSink OpenSink(ImageLocation destination, Func<ImageReference, ImageReference> target, ArchiveLimits limits) => destination.Kind switch
    {
        LocationKind.Registry => new RegistrySink(DestinationRegistry(), target),
        LocationKind.Daemon => new DaemonSink(Engine(), limits),
        LocationKind.Registered => Registered(destination).Sink(destination.Reference!),
        _ => new ArchiveSink(new ArchiveTarget
        {
            Path = destination.Path,
            Format = destination.IsDirectory ? ArchiveFormat.Directory : ArchiveFormat.Tar,
            Compression = CompressionOf(destination.Path!),
        }),
    };

    public void Dispose()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            owned.Dispose();
        }
    }

    private static OuterCompression CompressionOf(string path) =>
        path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase) ? OuterCompression.Gzip
        : path.EndsWith(".zst", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".tzst", StringComparison.OrdinalIgnoreCase) ? OuterCompression.Zstd
        : OuterCompression.None;

    private ImageTransport Registered(ImageLocation location) => transports.First(t => t.Prefix == location.Transport);

    private RegistryClient SourceRegistry() => _registry ??= Own(new RegistryClient(access.Credentials, access.Options, logger));

    private RegistryClient DestinationRegistry() =>
        destinationAccess is { } other ? Own(new RegistryClient(other.Credentials, other.Options, logger)) : SourceRegistry();

    private DockerEngineClient Engine() => _engine ??= Own(new DockerEngineClient(daemon ?? DockerEndpointResolver.Resolve(new DockerEndpointOptions())));

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
