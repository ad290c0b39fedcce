using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Saving;

/// <summary>
/// Resolves a reference to the manifests and configs to save, applying the platform selection:
/// all platforms keep the original index; a subset gets a new index holding only the selected entries
/// (their manifest digests unchanged); a single-platform image is kept when its platform is selected.
/// </summary>
internal sealed class ImageResolver(RegistryClient registry, PlatformSelection selection)
{
    public async Task<ResolvedImage> ResolveAsync(ImageReference name, ImageReference reference, CancellationToken cancellationToken)
    {
        var top = await registry.GetManifestAsync(reference, reference.ManifestReference, cancellationToken).ConfigureAwait(false);
        if (!top.IsIndex)
        {
            var single = await LoadPlatformImageAsync(reference, top, null, cancellationToken).ConfigureAwait(false);
            if (!selection.Includes(single.Platform))
            {
                throw new PlatformNotFoundException($"{reference}: image is for {single.Platform} only, which is not selected ({selection}); choose it with --platform {single.Platform}");
            }

            return new ResolvedImage(name, top, [single], single, false, reference);
        }

        var entries = top.Manifests;
        var selected = entries.Where(e => e.Platform is { } p ? selection.Includes(p) : selection.IsAll).ToList();
        if (selected.Count == 0)
        {
            var available = string.Join(", ", entries.Where(e => e.Platform is not null && e.Platform.Os != "unknown").Select(e => e.Platform!.ToString()).Distinct());
            throw new PlatformNotFoundException($"{reference}: no image for {selection}; it has {(available.Length == 0 ? "no platforms" : available)}");
        }

        var platforms = new PlatformImage[selected.Count];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, selected.Count),
            new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var entry = selected[i];
                var child = await registry.GetManifestAsync(reference, entry.Digest.ToString(), ct).ConfigureAwait(false);
                if (child.Content.Length != entry.Size)
                {
                    throw new DigestMismatchException($"{reference}: manifest {entry.Digest.Short} has {child.Content.Length} bytes, the index says {entry.Size}");
                }

                if (child.IsIndex)
                {
                    throw new UnsupportedContentException($"{reference}: nested indexes are not supported ({entry.Digest.Short})");
                }

                platforms[i] = await LoadPlatformImageAsync(reference, child, entry.Platform, ct).ConfigureAwait(false);
            }).ConfigureAwait(false);

        var isSubset = selected.Count != entries.Count;
        var saved = isSubset ? BuildSubsetIndex(top, selected, reference) : top;
        var images = platforms.Where(p => MediaTypes.IsImageConfig(p.Manifest.Config!.MediaType)).ToList();
        if (images.Count == 0)
        {
            throw new UnsupportedContentException($"{reference}: the selected entries hold no container image");
        }

        return new ResolvedImage(name, saved, platforms, ChoosePrimary(images), isSubset, reference);
    }

    /// <summary>
    /// What the archive's index.json would point at for this reference — the top manifest, or the subset index the
    /// platform selection makes — from the top manifest alone: no child manifest, no blob is fetched.
    /// </summary>
    public async Task<ManifestDocument> ResolveTopAsync(ImageReference reference, CancellationToken cancellationToken)
    {
        var top = await registry.GetManifestAsync(reference, reference.ManifestReference, cancellationToken).ConfigureAwait(false);
        if (!top.IsIndex)
        {
            return top;
        }

        var selected = top.Manifests.Where(e => e.Platform is { } p ? selection.Includes(p) : selection.IsAll).ToList();
        return selected.Count == 0 || selected.Count == top.Manifests.Count ? top : BuildSubsetIndex(top, selected, reference);
    }

    private PlatformImage ChoosePrimary(List<PlatformImage> images)
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

    private async Task<PlatformImage> LoadPlatformImageAsync(ImageReference reference, ManifestDocument manifest, Platform? indexPlatform, CancellationToken cancellationToken)
    {
        var configDescriptor = manifest.Config!;
        var config = await registry.GetBlobBytesAsync(reference, configDescriptor, cancellationToken).ConfigureAwait(false);
        if (!MediaTypes.IsImageConfig(configDescriptor.MediaType))
        {
            // An artifact (attestation, signature…): kept for index fidelity, never listed in manifest.json.
            return new PlatformImage(indexPlatform ?? new Platform("unknown", "unknown"), manifest, config);
        }

        var info = ImageConfigInfo.Parse(config, reference.ToString());
        if (info.DiffIdCount != manifest.Layers.Count)
        {
            throw new UnsupportedContentException($"{reference}: config lists {info.DiffIdCount} diff_ids but the manifest has {manifest.Layers.Count} layers");
        }

        return new PlatformImage(indexPlatform ?? info.Platform, manifest, config);
    }

    /// <summary>A copy of the index with only the selected entries; every other field is kept as it was.</summary>
    private static ManifestDocument BuildSubsetIndex(ManifestDocument index, IReadOnlyList<Descriptor> selected, ImageReference reference)
    {
        var keep = selected.Select(d => d.Digest.ToString()).ToHashSet(StringComparer.Ordinal);
        using var document = JsonDocument.Parse(index.Content);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
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
