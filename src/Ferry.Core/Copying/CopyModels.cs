using Ferry.Loading;
using Ferry.Saving;

namespace Ferry.Copying;

/// <summary>What to copy from registries into a registry.</summary>
public sealed record CopyRequest
{
    /// <summary>The image references, as users write them.</summary>
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>The target: <c>host[:port]</c>, optionally followed by a path prefix; each image keeps its repository path and tag under it.</summary>
    public required string Target { get; init; }

    /// <summary>Which platforms to copy; the host's by default (every platform keeps the source index digest).</summary>
    public PlatformSelection Platforms { get; init; } = PlatformSelection.Host;

    /// <summary>How many images are resolved and pushed at once (1–20).</summary>
    public int Jobs { get; init; } = 4;

    /// <summary>How many blobs move at once, all images together.</summary>
    public int MaxConcurrentTransfers { get; init; } = 8;

    /// <summary>Pull every image from this registry instead; the target keeps the names as given.</summary>
    public string? SourceRegistry { get; init; }

    /// <summary>Bulk mode: an image that fails is listed and the others go on.</summary>
    public bool ContinueOnError { get; init; }

    /// <summary>Whether each image's signatures, attestations and SBOMs are copied with it. On by default.</summary>
    public bool Referrers { get; init; } = true;
}

/// <summary>The outcome of a copy.</summary>
/// <param name="Images">What was pushed, in request order.</param>
/// <param name="Failed">What was not, in request order.</param>
public sealed record CopyResult(IReadOnlyList<LoadedImage> Images, IReadOnlyList<FailedImage> Failed);
