using Ferry.Listing;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Bundles;

/// <summary>What a bundle file makes of its registries: the images, in file order, each once.</summary>
/// <param name="Images">The image lines (<c>registry/repo:tag</c> or <c>@digest</c>), named tags first per repository, then the tags its selection took.</param>
/// <param name="Repositories">Each repository that was listed, with what its selection took.</param>
/// <param name="Renames">Repository names at the destination (<c>as:</c>), by source repository (<c>registry/repo</c>).</param>
public sealed record BundleExpansion(IReadOnlyList<string> Images, IReadOnlyList<ExpandedRepository> Repositories, IReadOnlyDictionary<string, string> Renames)
{
    /// <summary>The destination name of an image: its repository renamed when the bundle says <c>as:</c>, its tag or digest kept.</summary>
    /// <param name="image">The image as the source names it.</param>
    /// <returns>The name it gets.</returns>
    public ImageReference Rename(ImageReference image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (!Renames.TryGetValue(image.Name, out var name))
        {
            return image;
        }

        var renamed = ImageReference.Parse(name);
        return ImageReference.Parse(image.Tag is { } tag ? $"{renamed.Name}:{tag}" + (image.Digest is { } d ? $"@{d}" : string.Empty) : $"{renamed.Name}@{image.Digest}");
    }

    /// <summary>Lists each repository the bundle selects tags of (once each) and joins them to the named tags.</summary>
    internal static async Task<BundleExpansion> ExpandAsync(BundleFile bundle, RegistryClient registry, CancellationToken cancellationToken)
    {
        var images = new List<string>();
        var listed = new List<ExpandedRepository>();
        var renames = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var repository in bundle.Repositories)
        {
            var name = ImageReference.Parse(repository.Name + ":latest").Name;
            images.AddRange(repository.NamedImages);
            if (repository.Selection is { } selection)
            {
                var expansion = await RepositoryTags.ExpandAsync(registry, [name], selection, null, cancellationToken).ConfigureAwait(false);
                images.AddRange(expansion.Images);
                listed.AddRange(expansion.Repositories);
            }

            if (repository.As is { } target)
            {
                renames[name] = ImageReference.Parse(target.Contains(':', StringComparison.Ordinal) || target.Contains('@', StringComparison.Ordinal) ? target : target + ":latest").Name;
            }
        }

        return new BundleExpansion([.. images.Distinct(StringComparer.Ordinal)], listed, renames);
    }
}
