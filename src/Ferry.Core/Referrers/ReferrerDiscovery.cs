using System.Collections.Concurrent;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Referrers;

/// <summary>
/// Finds what refers to an image's manifests in its repository, every way a registry may hold it: the OCI 1.1 referrers
/// API, else its fallback tag (<c>sha256-&lt;hex&gt;</c>, an index of referrers) — and cosign's tags
/// (<c>sha256-&lt;hex&gt;.sig</c>, <c>.att</c>, <c>.sbom</c>) in any case. Each artifact manifest is fetched by digest and
/// verified; artifacts that are indexes, or whose <c>subject</c> names another manifest, are skipped.
/// </summary>
internal static class ReferrerDiscovery
{
    /// <summary>The requests made per subject at most, before each artifact's own fetch: the referrers API, its fallback tag, three cosign tags.</summary>
    public const int RequestsPerSubject = 5;

    public static async Task<IReadOnlyList<ReferrerArtifact>> DiscoverAsync(RegistryClient registry, ImageReference repository, IReadOnlyList<Digest> subjects, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<ReferrerArtifact>();
        await Parallel.ForEachAsync(subjects.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (subject, token) =>
        {
            foreach (var artifact in await DiscoverOneAsync(registry, repository, subject, token).ConfigureAwait(false))
            {
                found.Add(artifact);
            }
        }).ConfigureAwait(false);

        // Deterministic order (an archive's index.json depends only on its content).
        return found.OrderBy(a => a.Subject.ToString(), StringComparer.Ordinal).ThenBy(a => a.Tag ?? "~", StringComparer.Ordinal)
            .ThenBy(a => a.Manifest.Digest.ToString(), StringComparer.Ordinal).ToList();
    }

    private static async Task<IReadOnlyList<ReferrerArtifact>> DiscoverOneAsync(RegistryClient registry, ImageReference repository, Digest subject, CancellationToken cancellationToken)
    {
        var listing = ListAsync(registry, repository, subject, cancellationToken);
        var tagged = ReferrerArtifact.CosignSuffixes.Select(async suffix =>
        {
            var tag = ReferrerArtifact.CosignTag(subject, suffix);
            var document = await registry.TryGetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
            return document is { IsIndex: false } ? new ReferrerArtifact(document, subject, tag) : null;
        }).ToList();

        var artifacts = (await Task.WhenAll(tagged).ConfigureAwait(false)).OfType<ReferrerArtifact>().ToList();
        foreach (var entry in await listing.ConfigureAwait(false))
        {
            if (!MediaTypes.IsImageManifest(entry.Descriptor.MediaType) || artifacts.Any(a => a.Manifest.Digest == entry.Descriptor.Digest))
            {
                continue; // an index of artifacts is not carried; one found by its tag already is
            }

            var document = await registry.GetManifestAsync(repository, entry.Descriptor.Digest.ToString(), cancellationToken).ConfigureAwait(false);
            if (document.Content.Length != entry.Descriptor.Size)
            {
                throw new DigestMismatchException($"{repository.Name}@{entry.Descriptor.Digest.Short}: the referrers list says {entry.Descriptor.Size} bytes, the manifest has {document.Content.Length}");
            }

            if (document.Subject?.Digest == subject)
            {
                artifacts.Add(new ReferrerArtifact(document, subject, null));
            }
        }

        return artifacts;
    }

    private static async Task<IReadOnlyList<ReferrerDescriptor>> ListAsync(RegistryClient registry, ImageReference repository, Digest subject, CancellationToken cancellationToken)
    {
        if (await registry.ListReferrersAsync(repository, subject, null, cancellationToken).ConfigureAwait(false) is { } listed)
        {
            return listed;
        }

        var fallback = await registry.TryGetManifestAsync(repository, ReferrerArtifact.FallbackTag(subject), cancellationToken).ConfigureAwait(false);
        return fallback is { IsIndex: true } ? ReferrersIndex.Read(fallback.Content, $"{repository.Name}:{ReferrerArtifact.FallbackTag(subject)}") : [];
    }
}
