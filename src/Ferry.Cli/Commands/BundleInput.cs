using Ferry.Bundles;
using Ferry.Cli.Output;
using Ferry.Errors;
using Ferry.Registry;

namespace Ferry.Cli.Commands;

/// <summary><c>-f bundle.yaml</c>: a declarative bundle file instead of a text list (save and copy alike).</summary>
internal static class BundleInput
{
    /// <summary>The bundle file <c>-f</c> names (a <c>.yaml</c>/<c>.yml</c> path), or <see langword="null"/> for a text list.</summary>
    public static BundleFile? Read(string? listFile, IReadOnlyList<string> positional, TagSelection tags)
    {
        if (listFile is null || !BundleFile.IsBundlePath(listFile))
        {
            return null;
        }

        if (positional.Count > 0)
        {
            throw new InvalidInputException("give images either as arguments or in the bundle file, not both");
        }

        if (tags.IsActive)
        {
            throw new InvalidInputException("--all-tags and the tag filters select tags of repositories on the command line; in a bundle file each repository says its own (images: REPO: [], images-by-tag-regex, images-by-semver, or regex:/semver:/newest:)");
        }

        return File.Exists(listFile) ? BundleFile.Load(listFile) : throw new InvalidInputException($"bundle file {listFile} does not exist");
    }

    /// <summary>The plain files a bundle file carries (<c>files:</c>), their paths relative to the bundle file's directory, as a build file's paths are.</summary>
    public static IReadOnlyList<Files.FileArtifact> FilesOf(BundleFile bundle) =>
        [.. bundle.FileItems.Select(f => Files.FileArtifact.Create(PathOf(bundle, f.Path), f.Name, f.MediaType))];

    private static string PathOf(BundleFile bundle, string path) =>
        Path.IsPathRooted(path) ? path : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(bundle.Path)) ?? ".", path);

    /// <summary>Lists the bundle's repositories (each said once on stderr) and returns its images.</summary>
    public static async Task<BundleExpansion> ExpandAsync(BundleFile bundle, RegistryAccess access, OutputMode mode, CancellationToken cancellationToken)
    {
        var expansion = await Images.ExpandBundleAsync(bundle, access, cancellationToken: cancellationToken).ConfigureAwait(false);
        TagLines.Say(expansion.Repositories, mode);
        return expansion.Images.Count > 0 || bundle.FileItems.Count > 0
            ? expansion
            : throw new InvalidInputException($"{bundle.Path}: names no image (no tag of its repositories matched)");
    }
}
