using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer.Sinks;

/// <summary>What a daemon sink loaded.</summary>
/// <param name="Loaded">The daemon's own report lines (<c>Loaded image: …</c>).</param>
public sealed record DaemonReport(IReadOnlyList<string> Loaded) : SinkReport
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder) => Diagnostics.Printed.Members(builder, (nameof(Loaded), Loaded), (nameof(Failed), Failed));
}

/// <summary>A line the Docker daemon reported while loading.</summary>
/// <param name="Line">The line.</param>
public sealed record DaemonMessageEvent(string Line) : TransferEvent;

/// <summary>
/// Loads images into a Docker Engine: a docker-archive of each image's manifest for the daemon's platform (config,
/// layers and <c>manifest.json</c>) streams straight into <c>POST /images/load</c>, each blob once; no temporary
/// archive. Layers go unpacked when the Engine is on this machine (the Engine's own unpacking is single-threaded and
/// comes after the whole load has arrived; here it overlaps with sending, see <see cref="UnpackedLayerSpool"/>) and
/// when they are zstd (Engines before 23.0 cannot read zstd); to an Engine over TCP or SSH gzip layers go as stored,
/// fewer bytes on the wire. Layers a partial source leaves out must be in the daemon already (same chain ID), checked
/// before anything is sent. Cancelling aborts the request and the daemon keeps nothing of it.
/// </summary>
/// <param name="engine">The Engine.</param>
/// <param name="limits">How far an unpacked layer may grow (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
public sealed class DaemonSink(DockerEngineClient engine, ArchiveLimits? limits = null) : IImageSink<DaemonReport>, IIncrementalSink
{
    /// <summary>How many layers beyond the one being sent are unpacked at the same time.</summary>
    private const int UnpackAhead = 2;

    private readonly ArchiveLimits _limits = limits ?? ArchiveLimits.Default;

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
    /// <remarks>
    /// The Engine's image of that name has the source's config digest as its ID: the same image (an Engine keeps no
    /// manifest digest for a loaded image, so the config is what is compared). Unknown config: not held.
    /// </remarks>
    public async Task<ImageReference?> FindHeldAsync(ImageIdentity image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        if ((image.IsConfigDigest ? image.Digest : image.Config) is not { } config || image.Name.TaggedName is not { } name)
        {
            return null;
        }

        try
        {
            return (await engine.InspectImageAsync(name, cancellationToken).ConfigureAwait(false)).Id == config.ToString() ? image.Name : null;
        }
        catch (ImageNotFoundException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public async Task<SinkReport> WriteAsync(TransferPlan plan, TransferContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        var images = plan.Images.Where(p => p.Image.IsContainerImage).ToList();
        var failed = plan.Images.Where(p => !p.Image.IsContainerImage).Select(NotAnImage).ToList();
        foreach (var failure in failed)
        {
            context.Report(new ImageFailedEvent(failure, plan.RequestedCount));
        }

        if (images.Count == 0)
        {
            return new DaemonReport([]) { Failed = failed };
        }

        await CheckLeftOutAsync(plan, images, cancellationToken).ConfigureAwait(false);
        var loaded = await engine.LoadAsync((stream, token) => WriteDockerArchiveAsync(plan, images, stream, context, token), new LineProgress(context), cancellationToken).ConfigureAwait(false);
        return new DaemonReport(loaded) { Failed = failed };
    }

    /// <summary>An artifact (a Helm chart, a file) has nothing a Docker Engine can hold: a listed failure, the images beside it load.</summary>
    private static FailedImage NotAnImage(PlannedImage planned)
    {
        var manifest = planned.Image.Primary.Manifest;
        return new FailedImage(planned.Requested, planned.Position, $"{planned.Image.Reference}: is an artifact ({manifest.ArtifactType ?? manifest.Config!.MediaType}), not a container image; a Docker Engine holds images only (push it to a registry instead)") { Kind = FailureKind.Unsupported };
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

    private async Task WriteDockerArchiveAsync(TransferPlan plan, List<PlannedImage> images, Stream output, TransferContext context, CancellationToken cancellationToken)
    {
        var entries = EntriesOf(plan, images);
        using var spool = entries.Any(e => e.Unpack) ? UnpackedLayerSpool.TryCreate(context, _limits) : null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sentAs = new Dictionary<Digest, string>();
        var sentNames = new HashSet<string>(StringComparer.Ordinal);
        var unpacking = new Task<UnpackedLayer?>?[entries.Count];
        Task<UnpackedLayer?>? Unpack(int i) => spool is not null && i < entries.Count && entries[i].Unpack ? spool.UnpackAsync(entries[i].Blob, context, stop.Token) : null;
        try
        {
            // The next layers are fetched and unpacked (on other cores) while one is being sent.
            var started = 0;
            for (var i = 0; i < entries.Count; i++)
            {
                for (; started < entries.Count && started <= i + UnpackAhead; started++)
                {
                    unpacking[started] = Unpack(started);
                }

                var (blob, diffId, _) = entries[i];
                if (unpacking[i] is { } pending && await pending.ConfigureAwait(false) is { } unpacked)
                {
                    var name = diffId!.Value.LayoutPath;
                    sentAs[blob.Descriptor.Digest] = name;
                    if (sentNames.Add(name))
                    {
                        await SendFileAsync(output, name, unpacked, stop.Token).ConfigureAwait(false);
                    }

                    File.Delete(unpacked.Path);
                    continue;
                }

                sentAs[blob.Descriptor.Digest] = blob.Path;
                if (sentNames.Add(blob.Path))
                {
                    await SendAsStoredAsync(output, blob, context, stop.Token).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(unpacking.OfType<Task<UnpackedLayer?>>()).ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Cancelled or failed behind a failure already on its way out; the spool goes with them.
            }
        }

        var manifestJson = DockerManifestFile.Build(images.Select(p => (p.Image.Primary.Manifest, p.Image.Reference.TaggedName)), layer => sentAs.GetValueOrDefault(layer.Digest, layer.Digest.LayoutPath));
        await TarHeader.WriteEntryAsync(output, DockerManifestFile.FileName, manifestJson, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(TarHeader.Zeros, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The blobs to send, each once, config first then layers, image by image; a compressed layer is unpacked on the way
    /// when the Engine is on this machine (its bytes cost nothing on the socket) or when it is zstd (Engines before 23.0
    /// cannot read zstd), and it is then named by its diff ID, the digest of what is sent.
    /// </summary>
    private List<(TransferBlob Blob, Digest? DiffId, bool Unpack)> EntriesOf(TransferPlan plan, List<PlannedImage> images)
    {
        var blobs = plan.Blobs.ToDictionary(b => b.Descriptor.Digest);
        var listed = new HashSet<Digest>();
        var entries = new List<(TransferBlob, Digest?, bool)>();
        foreach (var planned in images)
        {
            var manifest = planned.Image.Primary.Manifest;
            var diffIds = ImageConfigInfo.Parse(planned.Image.Primary.Config.Span, planned.Image.Reference.ToString()).DiffIds;
            foreach (var (descriptor, index) in manifest.Layers.Prepend(manifest.Config!).Select((d, i) => (d, i - 1)))
            {
                if (!blobs.TryGetValue(descriptor.Digest, out var blob) || !listed.Add(descriptor.Digest))
                {
                    continue; // left out (the daemon has it) or listed already
                }

                var diffId = index >= 0 && index < diffIds.Count ? diffIds[index] : (Digest?)null;
                var compressed = descriptor.MediaType.Contains("gzip", StringComparison.Ordinal) || IsZstd(descriptor);
                entries.Add((blob, diffId, diffId is not null && compressed && (engine.IsOnThisMachine || IsZstd(descriptor))));
            }
        }

        return entries;
    }

    private static bool IsZstd(Descriptor descriptor) => descriptor.MediaType.Contains("zstd", StringComparison.Ordinal);

    private static async Task SendFileAsync(Stream output, string name, UnpackedLayer layer, CancellationToken cancellationToken)
    {
        await output.WriteAsync(TarHeader.Build(name, layer.Length, isDirectory: false), cancellationToken).ConfigureAwait(false);
        await using (var file = new FileStream(layer.Path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, BufferSize = 0, Options = FileOptions.Asynchronous | FileOptions.SequentialScan }))
        {
            if (file.Length != layer.Length)
            {
                throw new IOException($"the unpacked layer {name} changed in the spool ({file.Length} bytes, {layer.Length} written)");
            }

            await file.CopyToAsync(output, 1 << 20, cancellationToken).ConfigureAwait(false);
        }

        await output.WriteAsync(TarHeader.PaddingFor(layer.Length), cancellationToken).ConfigureAwait(false);
    }

    private static async Task SendAsStoredAsync(Stream output, TransferBlob blob, TransferContext context, CancellationToken cancellationToken)
    {
        var size = blob.Descriptor.Size;
        await output.WriteAsync(TarHeader.Build(blob.Path, size, isDirectory: false), cancellationToken).ConfigureAwait(false);
        if (blob.Content is { } content)
        {
            await output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await BlobCopier.CopyAsync(blob, LayoutWriteContext.For(context), (chunk, _, token) => output.WriteAsync(chunk, token), cancellationToken).ConfigureAwait(false);
        }

        await output.WriteAsync(TarHeader.PaddingFor(size), cancellationToken).ConfigureAwait(false);
    }

    private sealed class LineProgress(TransferContext context) : IProgress<string>
    {
        public void Report(string value) => context.Report(new DaemonMessageEvent(value));
    }
}
