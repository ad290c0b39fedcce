using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Transfer;

/// <summary>Where <see cref="ImageResolver"/> reads one image's manifests and configs: a registry, an archive, an Engine's export, a source of your own.</summary>
public interface IManifestStore
{
    /// <summary>The top manifest or index of the image, verified.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The document.</returns>
    Task<ManifestDocument> GetTopAsync(CancellationToken cancellationToken);

    /// <summary>Whether a child manifest of the top index is available here (an archive may hold only some platforms).</summary>
    /// <param name="child">The index entry.</param>
    /// <returns><see langword="true"/> when it can be read.</returns>
    bool Has(Descriptor child);

    /// <summary>A child manifest of the top index, verified against its descriptor.</summary>
    /// <param name="child">The index entry.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The document.</returns>
    Task<ManifestDocument> GetManifestAsync(Descriptor child, CancellationToken cancellationToken);

    /// <summary>A config blob, verified against its descriptor.</summary>
    /// <param name="config">The config's descriptor.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The bytes.</returns>
    Task<ReadOnlyMemory<byte>> GetConfigAsync(Descriptor config, CancellationToken cancellationToken);
}

/// <summary>
/// The one place that turns an image's top manifest into what is transferred, whatever the source: all platforms
/// keep the original index (all the store holds: an entry it lacks makes a subset); a subset gets a new index holding only the selected entries (their manifest digests
/// unchanged); a single-platform image is kept when its platform is selected; artifacts in an index (attestations,
/// signatures) are kept for index fidelity and never chosen as the image docker loads.
/// </summary>
public static class ImageResolver
{
    /// <summary>Resolves one image from its store: the platforms the selection keeps, a subset index when it keeps some, the image docker loads.</summary>
    /// <param name="name">The name the image takes in the run.</param>
    /// <param name="source">The name it has at its source (for messages).</param>
    /// <param name="store">Where its manifests and configs are read.</param>
    /// <param name="selection">The platform selection.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>The resolved image.</returns>
    /// <exception cref="PlatformNotFoundException">No selected platform is in the image.</exception>
    /// <exception cref="UnsupportedContentException">Nested indexes, an index of artifacts only, a config that disagrees with its manifest.</exception>
    public static async Task<ResolvedImage> ResolveAsync(ImageReference name, ImageReference source, IManifestStore store, PlatformSelection selection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(selection);
        var top = await store.GetTopAsync(cancellationToken).ConfigureAwait(false);
        if (!top.IsIndex)
        {
            var single = await LoadPlatformImageAsync(source, store, top, null, cancellationToken).ConfigureAwait(false);
            var isImage = MediaTypes.IsImageConfig(top.Config!.MediaType); // platforms select images; an artifact has none to select
            if (isImage && !selection.Includes(single.Platform) && !selection.FallsBackToAny)
            {
                throw new PlatformNotFoundException($"{source}: image is for {single.Platform} only, which is not selected ({selection}); select it (Platforms: {single.Platform})");
            }

            return new ResolvedImage(name, top, [single], single, false, source);
        }

        var entries = top.Manifests;
        // "All" is every entry the store holds: an archive from docker save 25+ lists platforms it does not carry.
        var selected = entries.Where(e => (e.Platform is { } p ? selection.Includes(p) : selection.IsAll) && store.Has(e)).ToList();
        if (selected.Count == 0 && selection.FallsBackToAny && entries.FirstOrDefault(e => e.Platform is { Os: not "unknown" } && store.Has(e)) is { } own)
        {
            selected = [own];
        }
        if (selected.Count == 0)
        {
            var available = string.Join(", ", entries.Where(e => e.Platform is not null && e.Platform.Os != "unknown" && store.Has(e)).Select(e => e.Platform!.ToString()).Distinct());
            throw new PlatformNotFoundException($"{source}: no image for {selection}; it has {(available.Length == 0 ? "no platforms" : available)}");
        }

        var platforms = new PlatformImage[selected.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, selected.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var entry = selected[i];
                var child = await store.GetManifestAsync(entry, ct).ConfigureAwait(false);
                if (child.Content.Length != entry.Size)
                {
                    throw new DigestMismatchException($"{source}: manifest {entry.Digest.Short} has {child.Content.Length} bytes, the index says {entry.Size}");
                }

                if (child.IsIndex)
                {
                    throw new UnsupportedContentException($"{source}: nested indexes are not supported ({entry.Digest.Short})");
                }

                platforms[i] = await LoadPlatformImageAsync(source, store, child, entry.Platform, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);

        var isSubset = selected.Count != entries.Count;
        var saved = isSubset ? SubsetIndex(top, selected, source) : top;
        var images = platforms.Where(p => MediaTypes.IsImageConfig(p.Manifest.Config!.MediaType)).ToList();
        if (images.Count == 0)
        {
            throw new UnsupportedContentException($"{source}: the selected entries hold no container image");
        }

        return new ResolvedImage(name, saved, platforms, ChoosePrimary(images, selection), isSubset, source);
    }

    /// <summary>
    /// What an archive's index.json would point at for this reference — the top manifest, or the subset index the
    /// platform selection makes — from the top manifest alone: no child manifest, no blob is read.
    /// </summary>
    internal static ManifestDocument TopFor(ManifestDocument top, PlatformSelection selection, ImageReference reference)
    {
        if (!top.IsIndex)
        {
            return top;
        }

        var selected = top.Manifests.Where(e => e.Platform is { } p ? selection.Includes(p) : selection.IsAll).ToList();
        return selected.Count == 0 || selected.Count == top.Manifests.Count ? top : SubsetIndex(top, selected, reference);
    }

    private static PlatformImage ChoosePrimary(List<PlatformImage> images, PlatformSelection selection)
    {
        var preference = selection.IsAll ? [Platform.Host] : selection.Platforms;
        foreach (var wanted in preference)
        {
            if (images.FirstOrDefault(p => wanted.Matches(p.Platform)) is { } match)
            {
                return match;
            }
        }

        return images[0];
    }

    private static async Task<PlatformImage> LoadPlatformImageAsync(ImageReference reference, IManifestStore store, ManifestDocument manifest, Platform? indexPlatform, CancellationToken cancellationToken)
    {
        var configDescriptor = manifest.Config!;
        var config = await store.GetConfigAsync(configDescriptor, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsImageConfig(configDescriptor.MediaType))
        {
            // An artifact (attestation, signature…): kept for index fidelity, never listed in manifest.json.
            return new PlatformImage(indexPlatform ?? new Platform("unknown", "unknown"), manifest, config);
        }

        var info = ImageConfigInfo.Parse(config.Span, reference.ToString());
        if (info.DiffIdCount != manifest.Layers.Count)
        {
            throw new UnsupportedContentException($"{reference}: config lists {info.DiffIdCount} diff_ids but the manifest has {manifest.Layers.Count} layers");
        }

        return new PlatformImage(indexPlatform ?? info.Platform, manifest, config);
    }

    /// <summary>A copy of the index with only the selected entries; every other field is kept as it was.</summary>
    private static ManifestDocument SubsetIndex(ManifestDocument index, IReadOnlyList<Descriptor> selected, ImageReference reference)
    {
        var keep = selected.Select(d => d.Digest.ToString()).ToHashSet(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(index.Content);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, JsonFiles.Compact))
        {
            writer.WriteStartObject();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("manifests"))
                {
                    writer.WritePropertyName("manifests");
                    writer.WriteStartArray();
                    foreach (var entry in property.Value.EnumerateArray())
                    {
                        if (entry.TryGetProperty("digest", out var digest) && keep.Contains(digest.GetString() ?? string.Empty))
                        {
                            entry.WriteTo(writer);
                        }
                    }

                    writer.WriteEndArray();
                }
                else
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return ManifestDocument.Parse(buffer.ToArray(), index.MediaType, reference.ToString());
    }
}
