using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer.Sinks;

/// <summary>What a daemon sink loaded.</summary>
/// <param name="Loaded">The daemon's own report lines (<c>Loaded image: …</c>).</param>
/// <param name="Failed">Images that could not be sent (zstd layers).</param>
public sealed record DaemonReport(IReadOnlyList<string> Loaded, IReadOnlyList<FailedImage> Failed) : SinkReport;

/// <summary>A line the Docker daemon reported while loading.</summary>
/// <param name="Line">The line.</param>
public sealed record DaemonMessageEvent(string Line) : TransferEvent;

/// <summary>
/// Loads images into a Docker Engine: a docker-archive of each image's manifest for the daemon's platform (config and
/// layers as stored — gzip or plain, which every Engine since 1.10 loads — and <c>manifest.json</c>) streams straight
/// into <c>POST /images/load</c>, each blob once; no temporary archive. Layers a partial source leaves out must be in
/// the daemon already (same chain ID), checked before anything is sent. zstd layers are refused: Engines before 23.0
/// cannot load them. Cancelling aborts the request and the daemon keeps nothing of it.
/// </summary>
/// <param name="engine">The Engine.</param>
public sealed class DaemonSink(DockerEngineClient engine) : IImageSink
{
    /// <inheritdoc />
    public bool AcceptsPartial => false;

    /// <inheritdoc />
    /// <remarks>
    /// An Engine takes one platform of each image. Unless one is named, it is the Engine's own when the image has it,
    /// else the one the image has (an arm64-only archive loads into an amd64 Engine, as with <c>docker load</c>).
    /// </remarks>
    public async Task<PlatformSelection?> PlatformsAsync(PlatformSelection? requested, CancellationToken cancellationToken)
    {
        if (requested is null)
        {
            var version = await engine.GetVersionAsync(cancellationToken).ConfigureAwait(false);
            return PlatformSelection.Preferring(Platform.Parse($"{(version.Os.Length > 0 ? version.Os : "linux")}/{version.Architecture}"));
        }

        return requested.IsAll || requested.Platforms.Count > 1
            ? throw new InvalidInputException($"a Docker Engine holds one platform of each image; name one platform, not {requested}")
            : requested;
    }

    /// <inheritdoc />
    public async Task<SinkReport> WriteAsync(TransferPlan plan, TransferContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        var failed = new List<FailedImage>();
        var images = new List<PlannedImage>();
        foreach (var planned in plan.Images)
        {
            if (planned.Image.Primary.Manifest.Layers.Any(l => l.MediaType.Contains("zstd", StringComparison.Ordinal)))
            {
                var failure = new FailedImage(planned.Requested, planned.Position, $"{planned.Image.Reference}: has zstd layers, which Docker Engines before 23.0 cannot load");
                failed.Add(failure);
                context.Report(new ImageFailedEvent(failure, plan.RequestedCount));
            }
            else
            {
                images.Add(planned);
            }
        }

        if (images.Count == 0)
        {
            return new DaemonReport([], failed);
        }

        await CheckLeftOutAsync(plan, images, cancellationToken).ConfigureAwait(false);
        var loaded = await engine.LoadAsync((stream, token) => WriteDockerArchiveAsync(plan, images, stream, context, token), new LineProgress(context), cancellationToken).ConfigureAwait(false);
        return new DaemonReport(loaded, failed);
    }

    /// <summary>
    /// A partial source leaves layers out: the daemon must already hold each of them with the same layers beneath
    /// (the same chain ID), or docker load would fail half-way. Checked before anything is sent.
    /// </summary>
    private async Task CheckLeftOutAsync(TransferPlan plan, List<PlannedImage> images, CancellationToken cancellationToken)
    {
        if (plan.Omitted.Count == 0)
        {
            return;
        }

        var omitted = plan.Omitted.ToDictionary(o => o.Digest);
        var chains = await engine.GetLayerChainIdsAsync(cancellationToken).ConfigureAwait(false);
        var missing = new List<string>();
        foreach (var planned in images)
        {
            var manifest = planned.Image.Primary.Manifest;
            var diffIds = ImageConfigInfo.Parse(planned.Image.Primary.Config.Span, planned.Image.Reference.ToString()).DiffIds;
            string? chain = null;
            for (var i = 0; i < manifest.Layers.Count && i < diffIds.Count; i++)
            {
                chain = DockerEngineClient.ChainId(chain, diffIds[i].ToString());
                if (omitted.TryGetValue(manifest.Layers[i].Digest, out var left) && !chains.Contains(chain))
                {
                    missing.Add($"{manifest.Layers[i].Digest.Short} of {planned.Image.Reference} (from {left.ExcludedBy})");
                }
            }
        }

        if (missing.Count > 0)
        {
            throw new DaemonException($"the partial archive leaves out {missing.Count} layer(s) the Docker daemon ({engine.Host}) does not have; nothing was loaded. Missing: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : string.Empty)}. Load the excluded images into the daemon first");
        }
    }

    private static async Task WriteDockerArchiveAsync(TransferPlan plan, List<PlannedImage> images, Stream output, TransferContext context, CancellationToken cancellationToken)
    {
        var blobs = plan.Blobs.ToDictionary(b => b.Descriptor.Digest);
        var written = new HashSet<Digest>();
        foreach (var planned in images)
        {
            var manifest = planned.Image.Primary.Manifest;
            foreach (var descriptor in manifest.Layers.Prepend(manifest.Config!))
            {
                if (!blobs.TryGetValue(descriptor.Digest, out var blob) || !written.Add(descriptor.Digest))
                {
                    continue; // left out (the daemon has it) or sent already
                }

                await output.WriteAsync(TarHeader.Build(blob.Path, descriptor.Size, isDirectory: false), cancellationToken).ConfigureAwait(false);
                if (blob.Content is { } content)
                {
                    await output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await BlobCopier.CopyAsync(blob, LayoutWriteContext.For(context), (chunk, _, token) => output.WriteAsync(chunk, token), cancellationToken).ConfigureAwait(false);
                }

                await output.WriteAsync(TarHeader.PaddingFor(descriptor.Size), cancellationToken).ConfigureAwait(false);
            }
        }

        var manifestJson = DockerManifestFile.Build(images.Select(p => (p.Image.Primary.Manifest, p.Image.Reference.TaggedName)));
        await TarHeader.WriteEntryAsync(output, DockerManifestFile.FileName, manifestJson, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(TarHeader.Zeros, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private sealed class LineProgress(TransferContext context) : IProgress<string>
    {
        public void Report(string value) => context.Report(new DaemonMessageEvent(value));
    }
}
