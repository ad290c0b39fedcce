using Ferry.References;

namespace Ferry.Loading;

/// <summary>What to load where.</summary>
public sealed record LoadRequest
{
    /// <summary>Archives to read (any format Ferry reads).</summary>
    public required IReadOnlyList<string> Archives { get; init; }

    /// <summary>The target: <c>host[:port]</c>, optionally followed by a path prefix (<c>registry:5000/mirror</c>).</summary>
    public required string Target { get; init; }

    /// <summary>Images pushed concurrently (1–20).</summary>
    public int Jobs { get; init; } = 4;

    /// <summary>A repository of the target registry that holds the layers a partial archive leaves out (<c>--mount-from</c>).</summary>
    public string? MountFrom { get; init; }

    /// <summary>Blob uploads in flight, all images together.</summary>
    public int MaxConcurrentUploads { get; init; } = 8;
}

/// <summary>One image pushed.</summary>
/// <param name="Source">The name in the archive.</param>
/// <param name="Target">Where it was pushed.</param>
/// <param name="Digest">The digest of its manifest or index (equal to the source's when the archive carried registry manifests).</param>
/// <param name="BuiltFromLayers">Whether Ferry built the manifest (legacy docker-archive input).</param>
/// <param name="Uploaded">Blobs uploaded.</param>
/// <param name="Mounted">Blobs mounted from another repository of the target registry.</param>
/// <param name="Existing">Blobs the target repository already had.</param>
/// <param name="UploadedBytes">Bytes uploaded.</param>
public sealed record LoadedImage(string Source, ImageReference Target, Digest Digest, bool BuiltFromLayers, int Uploaded, int Mounted, int Existing, long UploadedBytes);

/// <summary>One image that could not be loaded.</summary>
/// <param name="Source">Its name in the archive (or a description when unnamed).</param>
/// <param name="Archive">The archive it came from.</param>
/// <param name="Message">What went wrong, one line.</param>
public sealed record LoadFailure(string Source, string Archive, string Message);

/// <summary>The outcome of a load.</summary>
/// <param name="Images">What was pushed.</param>
/// <param name="Failed">What was not.</param>
public sealed record LoadResult(IReadOnlyList<LoadedImage> Images, IReadOnlyList<LoadFailure> Failed);

/// <summary>Progress of a load.</summary>
public abstract record LoadEvent;

/// <summary>An image was pushed.</summary>
/// <param name="Image">The result.</param>
public sealed record ImageLoadedEvent(LoadedImage Image) : LoadEvent;

/// <summary>An image failed.</summary>
/// <param name="Failure">What went wrong.</param>
public sealed record ImageLoadFailedEvent(LoadFailure Failure) : LoadEvent;
