using System.Text.RegularExpressions;
using Ferry.Errors;
using Semver;

namespace Ferry.Registry;

/// <summary>
/// Which tags of a repository a run takes: all of them, those a regular expression finds (as skopeo sync's
/// <c>images-by-tag-regex</c>: a match anywhere, anchor with <c>^…$</c>), those in a semver range (npm syntax,
/// <c>&gt;=1.2 &lt;2</c>; tags may start with <c>v</c> and leave out minor or patch), minus those an exclusion finds,
/// then the newest <see cref="Newest"/> (by version when every tag left is one, else by the registry's listing order).
/// </summary>
public sealed record TagSelection
{
    private static readonly TimeSpan RegexBudget = TimeSpan.FromSeconds(1);

    /// <summary>Every tag (<c>--all-tags</c>); implied by any other setting.</summary>
    public bool AllTags { get; init; }

    /// <summary>Only tags this expression finds (<c>--tag-regex</c>).</summary>
    public string? Regex { get; init; }

    /// <summary>Only tags that are versions in this range (<c>--tag-semver</c>, npm syntax).</summary>
    public string? Semver { get; init; }

    /// <summary>Not the tags this expression finds (<c>--tag-exclude</c>).</summary>
    public string? Exclude { get; init; }

    /// <summary>Only the newest this many (<c>--newest</c>).</summary>
    public int? Newest { get; init; }

    /// <summary>Whether the selection asks for anything (otherwise references keep their own tags).</summary>
    public bool IsActive => AllTags || Regex is not null || Semver is not null || Exclude is not null || Newest is not null;

    /// <summary>Checks the settings before anything is listed.</summary>
    /// <exception cref="InvalidInputException">An expression or range that does not parse, or a count under 1.</exception>
    public void Validate()
    {
        _ = Compile(Regex, "Regex");
        _ = Compile(Exclude, "Exclude");
        _ = Range();
        if (Newest is < 1)
        {
            throw new InvalidInputException($"the newest tags to take (Newest) must be at least 1, not {Newest}");
        }
    }

    /// <summary>The tags taken from a repository's listing, in ascending order (versions by version).</summary>
    /// <param name="tags">The repository's tags as the registry lists them.</param>
    /// <returns>The tags taken.</returns>
    public IReadOnlyList<string> Apply(IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var include = Compile(Regex, "Regex");
        var exclude = Compile(Exclude, "Exclude");
        var range = Range();
        List<string> taken;
        try
        {
            taken = tags.Distinct(StringComparer.Ordinal)
                .Where(t => include is null || include.IsMatch(t))
                .Where(t => exclude is null || !exclude.IsMatch(t))
                .Where(t => range is null || (VersionOf(t) is { } v && range.Contains(v)))
                .ToList();
        }
        catch (RegexMatchTimeoutException ex)
        {
            throw new InvalidInputException($"the expression \"{ex.Pattern}\" took over {RegexBudget.TotalSeconds:F0} s on the tag \"{ex.Input}\"; simplify it");
        }

        var versions = taken.Select(t => (Tag: t, Version: VersionOf(t))).ToList();
        if (versions.All(v => v.Version is not null))
        {
            taken = versions.OrderBy(v => v.Version!, SemVersion.SortOrderComparer).ThenBy(v => v.Tag, StringComparer.Ordinal).Select(v => v.Tag).ToList();
        }

        return Newest is { } n && taken.Count > n ? taken[^n..] : taken;
    }

    /// <summary>A tag read as a version (<c>v1.2</c>, <c>1.2.3-rc.1</c>), or <see langword="null"/>.</summary>
    internal static SemVersion? VersionOf(string tag) =>
        SemVersion.TryParse(tag, SemVersionStyles.Any, out var version) ? version : null;

    private SemVersionRange? Range()
    {
        if (Semver is null)
        {
            return null;
        }

        try
        {
            return SemVersionRange.ParseNpm(Semver);
        }
        catch (FormatException ex)
        {
            throw new InvalidInputException($"the version range \"{Semver}\" (Semver) does not parse: {ex.Message}");
        }
    }

    private static Regex? Compile(string? pattern, string setting)
    {
        if (pattern is null)
        {
            return null;
        }

        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexBudget);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidInputException($"the expression \"{pattern}\" ({setting}) does not parse: {ex.Message}");
        }
    }
}
