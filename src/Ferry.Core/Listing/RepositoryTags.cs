using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Listing;

/// <summary>What a tag or digest points at now, or why it could not be told (a dry run's line).</summary>
/// <param name="Image">The image as given.</param>
/// <param name="Digest">The digest of its manifest or index at the registry, or <see langword="null"/>.</param>
/// <param name="Failure">Why not, or <see langword="null"/>.</param>
public sealed record ImageDigest(string Image, Digest? Digest, Transfer.FailedImage? Failure);

/// <summary>One repository a tag selection expanded: how many tags the registry listed and which were taken.</summary>
/// <param name="Name">The repository (<c>registry/path</c>).</param>
/// <param name="Listed">How many tags the registry listed.</param>
/// <param name="Taken">The tags taken, in order.</param>
public sealed record ExpandedRepository(string Name, int Listed, IReadOnlyList<string> Taken)
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) => Diagnostics.Printed.Members(builder, (nameof(Name), Name), (nameof(Listed), Listed), (nameof(Taken), Taken));
}

/// <summary>A list of images with its repositories expanded into tags.</summary>
/// <param name="Images">The references to transfer: each expanded tag, and every line that named its own tag or digest.</param>
/// <param name="Repositories">What each repository line became.</param>
public sealed record TagExpansion(IReadOnlyList<string> Images, IReadOnlyList<ExpandedRepository> Repositories)
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) => Diagnostics.Printed.Members(builder, (nameof(Images), Images), (nameof(Repositories), Repositories));
}

/// <summary>A tag of a repository, with the digest it points at when asked for.</summary>
/// <param name="Tag">The tag.</param>
/// <param name="Digest">Its manifest's or index's digest, or <see langword="null"/>.</param>
public sealed record ListedTag(string Tag, Digest? Digest);

/// <summary>
/// Whole repositories: a line that names a repository without a tag or digest becomes the tags a
/// <see cref="TagSelection"/> takes, listed once per repository (<c>tags/list</c>, every page); a line with its own tag
/// or digest stays as it is. Each tag is then an ordinary image of the run.
/// </summary>
internal static class RepositoryTags
{
    public static async Task<TagExpansion> ExpandAsync(RegistryClient registry, IReadOnlyList<string> images, TagSelection selection, string? sourceRegistry, CancellationToken cancellationToken)
    {
        selection.Validate();
        var expanded = new List<string>();
        var repositories = new List<ExpandedRepository>();
        foreach (var text in images.Select(l => l.Trim()))
        {
            var location = Transfer.ImageLocation.ParseSource(text);
            if (location.Kind != Transfer.LocationKind.Registry)
            {
                throw new InvalidInputException($"{text}: the tag options list registry repositories; this is not one");
            }

            var line = location.Reference!;
            if (NamesItsOwnTag(line))
            {
                expanded.Add(text);
                continue;
            }

            var repository = ImageReference.Parse(line);
            var tags = await ListAsync(registry, repository, sourceRegistry, cancellationToken).ConfigureAwait(false);
            var taken = selection.Apply(tags);
            repositories.Add(new ExpandedRepository(repository.Name, tags.Count, taken));
            expanded.AddRange(taken.Select(t => $"{repository.Name}:{t}"));
        }

        return new TagExpansion(expanded.Distinct(StringComparer.Ordinal).ToList(), repositories);
    }

    public static async Task<IReadOnlyList<ListedTag>> ListAsync(RegistryClient registry, string repositoryText, TagSelection? selection, bool digests, CancellationToken cancellationToken)
    {
        if (NamesItsOwnTag(repositoryText.Trim()))
        {
            throw new InvalidInputException($"{repositoryText}: name a repository (without a tag or digest) to list its tags");
        }

        var repository = ImageReference.Parse(repositoryText);
        var tags = await ListAsync(registry, repository, null, cancellationToken).ConfigureAwait(false);
        var taken = selection is { IsActive: true } ? selection.Apply(tags) : tags;
        if (!digests)
        {
            return taken.Select(t => new ListedTag(t, null)).ToList();
        }

        var listed = new ListedTag[taken.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, taken.Count), new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken }, async (i, token) =>
        {
            var manifest = await registry.TryGetManifestAsync(repository, taken[i], token).ConfigureAwait(false);
            listed[i] = new ListedTag(taken[i], manifest?.Digest);
        }).ConfigureAwait(false);
        return listed;
    }

    /// <summary>Whether a line names its own tag or digest (<c>app:1.2</c>, <c>app@sha256:…</c>) rather than a repository.</summary>
    public static bool NamesItsOwnTag(string line) =>
        line.Contains('@', StringComparison.Ordinal) || line[(line.LastIndexOf('/') + 1)..].Contains(':', StringComparison.Ordinal);

    private static async Task<IReadOnlyList<string>> ListAsync(RegistryClient registry, ImageReference repository, string? sourceRegistry, CancellationToken cancellationToken)
    {
        var at = sourceRegistry is { Length: > 0 } other ? repository.WithRegistry(other) : repository;
        return await registry.ListTagsAsync(at, cancellationToken: cancellationToken).ConfigureAwait(false)
            ?? throw new RegistryException($"{at.Name}: the registry does not list this repository's tags (it is missing, or listing is not allowed with these credentials)");
    }
}
