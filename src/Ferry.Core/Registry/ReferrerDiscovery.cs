using System.Collections.Concurrent;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Referrers;
using Ferry.Registry;

namespace Ferry.Registry;

/// <summary>
/// Finds what refers to an image's manifests in its repository, every way a registry may hold it: the OCI 1.1 referrers
/// API, else its fallback tag (<c>sha256-&lt;hex&gt;</c>, an index of referrers) — and cosign's tags
/// (<c>sha256-&lt;hex&gt;.sig</c>, <c>.att</c>, <c>.sbom</c>) in any case. Each artifact manifest is fetched by digest and
/// verified; artifacts that are indexes, or whose <c>subject</c> names another manifest, are skipped.
/// </summary>
internal sealed class ReferrerDiscovery(RegistryClient registry)
{
    /// <summary>The most referrers carried for one manifest: beyond it a registry is hostile or broken, not signing.</summary>
    public const int MaxReferrers = 1000;

    private readonly ConcurrentDictionary<string, bool> _withoutApi = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<HashSet<string>?>>> _tags = new(StringComparer.Ordinal);

    /// <summary>
    /// The artifacts of these manifests of a repository. One run's lookups are shared: a repository's tags are listed
    /// once (cosign's tags and the fallback tag are then fetched only when they exist; probed one by one when the
    /// registry will not list tags), and a registry that answered 404 to the referrers API is not asked again.
    /// </summary>
    public async Task<IReadOnlyList<ReferrerArtifact>> DiscoverAsync(ImageReference repository, IReadOnlyList<Digest> subjects, CancellationToken cancellationToken)
    {
        var found = new ConcurrentBag<ReferrerArtifact>();
        await Parallel.ForEachAsync(subjects.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (subject, token) =>
        {
            foreach (var artifact in await DiscoverOneAsync(repository, subject, token).ConfigureAwait(false))
            {
                found.Add(artifact);
            }
        }).ConfigureAwait(false);

        // Deterministic order (an archive's index.json depends only on its content).
        return found.OrderBy(a => a.Subject.ToString(), StringComparer.Ordinal).ThenBy(a => a.Tag ?? "~", StringComparer.Ordinal)
            .ThenBy(a => a.Manifest.Digest.ToString(), StringComparer.Ordinal).ToList();
    }

    private async Task<IReadOnlyList<ReferrerArtifact>> DiscoverOneAsync(ImageReference repository, Digest subject, CancellationToken cancellationToken)
    {
        var tags = await TagsAsync(repository, cancellationToken).ConfigureAwait(false);
        var listing = ListAsync(repository, subject, tags, cancellationToken);
        var tagged = ReferrerArtifact.CosignSuffixes.Select(async suffix =>
        {
            var tag = ReferrerArtifact.CosignTag(subject, suffix);
            if (tags is not null && !tags.Contains(tag))
            {
                return null;
            }

            var document = await registry.TryGetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
            return document is { IsIndex: false } ? new ReferrerArtifact(document, subject, tag) : null;
        }).ToList();

        var artifacts = (await Task.WhenAll(tagged).ConfigureAwait(false)).OfType<ReferrerArtifact>().ToList();
        var listed = await listing.ConfigureAwait(false);
        if (listed.Count > MaxReferrers)
        {
            throw new UnsupportedContentException($"{repository.Name}@{subject.Short}: the registry lists {listed.Count} referrers, more than the {MaxReferrers} Ferry carries for one manifest; refused (Referrers: false leaves them all out)");
        }

        foreach (var entry in listed)
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

    /// <summary>Whether a tag exists in a repository: from the run's listing, else asked for.</summary>
    public async Task<bool> HasTagAsync(ImageReference repository, string tag, CancellationToken cancellationToken) =>
        await TagsAsync(repository, cancellationToken).ConfigureAwait(false) is { } tags
            ? tags.Contains(tag)
            : await registry.TryGetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// A repository's tags, listed once for the run; <see langword="null"/> when they cannot be listed (then tags are
    /// probed). A listing cancelled for the image that started it (that image failed) is started again for the next.
    /// </summary>
    private async Task<HashSet<string>?> TagsAsync(ImageReference repository, CancellationToken cancellationToken)
    {
        while (true)
        {
            var listing = _tags.GetOrAdd(repository.Name, _ => new Lazy<Task<HashSet<string>?>>(() => ListTagsAsync(repository, cancellationToken)));
            try
            {
                return await listing.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _tags.TryRemove(new KeyValuePair<string, Lazy<Task<HashSet<string>?>>>(repository.Name, listing));
            }
        }
    }

    /// <summary>The listing is an optimisation: a registry that fails it gets its tags probed instead.</summary>
    private async Task<HashSet<string>?> ListTagsAsync(ImageReference repository, CancellationToken cancellationToken)
    {
        try
        {
            return await registry.ListTagsAsync(repository, cancellationToken: cancellationToken).ConfigureAwait(false) is { } tags ? tags.ToHashSet(StringComparer.Ordinal) : null;
        }
        catch (RegistryException)
        {
            return null;
        }
    }

    private async Task<IReadOnlyList<ReferrerDescriptor>> ListAsync(ImageReference repository, Digest subject, HashSet<string>? tags, CancellationToken cancellationToken)
    {
        if (!_withoutApi.ContainsKey(repository.Registry))
        {
            if (await registry.ListReferrersAsync(repository, subject, null, cancellationToken).ConfigureAwait(false) is { } listed)
            {
                return listed;
            }

            _withoutApi[repository.Registry] = true;
        }

        if (tags is not null && !tags.Contains(ReferrerArtifact.FallbackTag(subject)))
        {
            return [];
        }

        var fallback = await registry.TryGetManifestAsync(repository, ReferrerArtifact.FallbackTag(subject), cancellationToken).ConfigureAwait(false);
        return fallback is { IsIndex: true } ? ReferrersIndex.Read(fallback.Content, $"{repository.Name}:{ReferrerArtifact.FallbackTag(subject)}") : [];
    }
}
