using System.Text.Json;
using Ferry.Archives;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;

namespace Ferry.Loading;

/// <summary>What a daemon load did.</summary>
/// <param name="Loaded">The daemon's own report lines (<c>Loaded image: …</c>).</param>
/// <param name="Failed">Images that could not be sent (no manifest for the daemon's platform, zstd layers, broken blobs).</param>
public sealed record DaemonLoadResult(IReadOnlyList<string> Loaded, IReadOnlyList<LoadFailure> Failed);

/// <summary>
/// Loads archives into a Docker Engine: picks each image's manifest for the daemon's platform, verifies its
/// blobs, and streams a docker-archive (<c>manifest.json</c> + config + layers as stored, gzip or plain, which
/// every Engine since 1.10 loads) into <c>POST /images/load</c> — no temporary archive on disk. Layers shared by
/// images are sent once. zstd layers are refused with a clear message: Engines before 23.0 cannot load them.
/// </summary>
public sealed class DaemonLoader(DockerEngineClient engine)
{

    /// <summary>Loads every image of the archives.</summary>
    /// <param name="archives">Archive paths.</param>
    /// <param name="progress">Receives the daemon's progress lines.</param>
    /// <param name="cancellationToken">Cancels the load (the request is aborted; the daemon keeps nothing of it).</param>
    /// <returns>What was loaded and what was not.</returns>
    /// <exception cref="DaemonException">The daemon is unreachable or refused the archive.</exception>
    public async Task<DaemonLoadResult> LoadAsync(IReadOnlyList<string> archives, IProgress<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(archives);
        var version = await engine.GetVersionAsync(cancellationToken).ConfigureAwait(false);
        var platform = Platform.Parse($"{(version.Os.Length > 0 ? version.Os : "linux")}/{version.Architecture}");
        var opened = new List<ImageArchive>();
        var failures = new List<LoadFailure>();
        var selected = new List<(ImageArchive Archive, string? Name, ManifestDocument Manifest)>();
        try
        {
            foreach (var path in archives)
            {
                opened.Add(await ImageArchive.OpenAsync(path, cancellationToken).ConfigureAwait(false));
            }

            foreach (var archive in opened)
            {
                foreach (var image in archive.Images)
                {
                    try
                    {
                        var manifest = await SelectAsync(archive, image, platform, cancellationToken).ConfigureAwait(false);
                        // Layers a partial archive leaves out are not sent: docker load skips a layer the daemon already has.
                        await archive.VerifyBlobsAsync([manifest.Config!, .. manifest.Layers.Where(l => !archive.Omitted.ContainsKey(l.Digest))], cancellationToken).ConfigureAwait(false);
                        selected.Add((archive, image.Name, manifest));
                    }
                    catch (FerryException ex)
                    {
                        failures.Add(new LoadFailure(image.Name ?? image.Top.Digest.Short, archive.File.Path, ex.Message));
                    }
                }
            }

            if (selected.Count == 0)
            {
                return new DaemonLoadResult([], failures);
            }

            await CheckOmittedLayersAsync(selected, cancellationToken).ConfigureAwait(false);

            var loaded = await engine.LoadAsync((stream, token) => WriteDockerArchiveAsync(selected, stream, token), progress, cancellationToken).ConfigureAwait(false);
            return new DaemonLoadResult(loaded, failures);
        }
        finally
        {
            foreach (var archive in opened)
            {
                archive.Dispose();
            }
        }
    }

    /// <summary>
    /// A partial archive leaves layers out: the daemon must already hold each of them with the same layers
    /// beneath (the same chain ID), or docker load would fail half-way. Checked before anything is sent.
    /// </summary>
    private async Task CheckOmittedLayersAsync(List<(ImageArchive Archive, string? Name, ManifestDocument Manifest)> selected, CancellationToken cancellationToken)
    {
        if (selected.All(s => s.Archive.Omitted.Count == 0))
        {
            return;
        }

        var chains = await engine.GetLayerChainIdsAsync(cancellationToken).ConfigureAwait(false);
        var missing = new List<string>();
        foreach (var (archive, name, manifest) in selected.Where(s => s.Archive.Omitted.Count > 0))
        {
            var config = await archive.ReadSmallBlobAsync(manifest.Config!, 8 * 1024 * 1024, cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(config);
            var diffIds = document.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToList();
            string? chain = null;
            for (var i = 0; i < manifest.Layers.Count && i < diffIds.Count; i++)
            {
                chain = DockerEngineClient.ChainId(chain, diffIds[i]);
                if (archive.Omitted.TryGetValue(manifest.Layers[i].Digest, out var omitted) && !chains.Contains(chain))
                {
                    missing.Add($"{manifest.Layers[i].Digest.Short} of {name ?? manifest.Digest.Short} (from {omitted.ExcludedBy})");
                }
            }
        }

        if (missing.Count > 0)
        {
            throw new DaemonException($"the partial archive leaves out {missing.Count} layer(s) the Docker daemon ({engine.Host}) does not have; nothing was loaded. Missing: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : string.Empty)}. Load the excluded images into the daemon first");
        }
    }

    private static async Task<ManifestDocument> SelectAsync(ImageArchive archive, ArchivedImage image, Platform platform, CancellationToken cancellationToken)
    {
        var top = await archive.ReadManifestAsync(image.Top, cancellationToken).ConfigureAwait(false);
        var manifest = top;
        if (top.IsIndex)
        {
            var entry = top.Manifests.FirstOrDefault(m => m.Platform is { } p && platform.Matches(p) && archive.Contains(m.Digest))
                        ?? throw new PlatformNotFoundException($"{image.Name ?? image.Top.Digest.Short}: the archive holds no {platform} manifest for this daemon");
            manifest = await archive.ReadManifestAsync(entry, cancellationToken).ConfigureAwait(false);
        }

        if (manifest.Config is null)
        {
            throw new UnsupportedContentException($"{image.Name}: not an image manifest");
        }

        if (manifest.Layers.Any(l => l.MediaType.Contains("zstd", StringComparison.Ordinal)))
        {
            throw new UnsupportedContentException($"{image.Name}: has zstd layers, which Docker Engines before 23.0 cannot load");
        }

        return manifest;
    }

    private static async Task WriteDockerArchiveAsync(List<(ImageArchive Archive, string? Name, ManifestDocument Manifest)> images, Stream output, CancellationToken cancellationToken)
    {
        var written = new HashSet<Digest>();
        foreach (var (archive, _, manifest) in images)
        {
            foreach (var blob in manifest.Layers.Where(l => !archive.Omitted.ContainsKey(l.Digest)).Prepend(manifest.Config!))
            {
                if (!written.Add(blob.Digest))
                {
                    continue;
                }

                await output.WriteAsync(TarHeader.Build(blob.Digest.LayoutPath, blob.Size, isDirectory: false), cancellationToken).ConfigureAwait(false);
                await using (var source = archive.OpenBlob(blob))
                {
                    await source.CopyToAsync(output, 1 << 20, cancellationToken).ConfigureAwait(false);
                }

                await output.WriteAsync(TarHeader.PaddingFor(blob.Size), cancellationToken).ConfigureAwait(false);
            }
        }

        var manifestJson = DockerManifestJson.Build(images.Select(i => (i.Manifest, i.Name is not null && ImageReference.TryParse(i.Name, out var reference, out _) ? reference!.TaggedName : null)));
        await TarHeader.WriteEntryAsync(output, "manifest.json", manifestJson, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(TarHeader.Zeros, cancellationToken).ConfigureAwait(false);
        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }
}
