using Ferry.References;

namespace Ferry.References;

/// <summary>Which platforms of multi-platform images to save.</summary>
public sealed record PlatformSelection
{
    private PlatformSelection(IReadOnlyList<Platform> platforms, bool all)
    {
        Platforms = platforms;
        IsAll = all;
    }

    /// <summary>The selected platforms, in the user's order (empty when <see cref="IsAll"/>).</summary>
    public IReadOnlyList<Platform> Platforms { get; }

    /// <summary>Whether every platform is selected.</summary>
    public bool IsAll { get; }

    /// <summary>
    /// Whether an image that lacks the selected platform gives the one it has instead of failing (how <c>docker load</c>
    /// treats an archive: a Docker Engine takes one platform of each image, its own when the image has it).
    /// </summary>
    public bool FallsBackToAny { get; private init; }

    /// <summary>Only the host's platform (the default, as <c>docker pull</c>).</summary>
    public static PlatformSelection Host { get; } = new([Platform.Host], false);

    /// <summary>Every platform; indexes are kept byte-for-byte.</summary>
    public static PlatformSelection All { get; } = new([], true);

    /// <summary>One platform when an image has it, else the image's first (a Docker Engine destination's rule).</summary>
    /// <param name="platform">The preferred platform (the Engine's own).</param>
    /// <returns>The selection.</returns>
    public static PlatformSelection Preferring(Platform platform) => new([platform], false) { FallsBackToAny = true };

    /// <summary>The given platforms.</summary>
    /// <param name="platforms">One or more platforms.</param>
    /// <returns>The selection.</returns>
    public static PlatformSelection Of(IEnumerable<Platform> platforms)
    {
        var list = platforms.Distinct().ToList();
        return list.Count == 0 ? Host : new PlatformSelection(list, false);
    }

    /// <summary>Parses a selection as the CLI's <c>--platform</c> takes it: <c>linux/amd64</c>, <c>linux/amd64,arm64</c>, or <c>all</c>.</summary>
    /// <param name="text">Platforms, comma-separated (the OS defaults to linux), or <c>all</c>.</param>
    /// <returns>The selection.</returns>
    /// <exception cref="Errors.InvalidInputException">A platform is malformed.</exception>
    public static PlatformSelection Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim() == "all"
            ? All
            : Of(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Platform.Parse));
    }

    /// <summary>Whether a platform is selected.</summary>
    /// <param name="candidate">An image's platform.</param>
    /// <returns><see langword="true"/> when selected.</returns>
    public bool Includes(Platform candidate) => IsAll || Platforms.Any(p => p.Matches(candidate));

    /// <summary>The selection as text, e.g. <c>linux/amd64, linux/arm64/v8</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => IsAll ? "all platforms" : string.Join(", ", Platforms) + (FallsBackToAny ? " (else the image's own)" : string.Empty);
}
