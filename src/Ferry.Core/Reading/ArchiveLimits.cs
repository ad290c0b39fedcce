using Ferry.Errors;

namespace Ferry.Reading;

/// <summary>How far an archive Ferry reads may go before it is refused as hostile; passed to each read, never process-wide.</summary>
public sealed record ArchiveLimits
{
    /// <summary>
    /// The largest accepted ratio of decompressed to compressed size, beyond <see cref="ArchiveFile.BombAllowance"/>.
    /// 1,100 by default: every gzip stream fits (deflate cannot expand more than about 1,032 times), so a legitimate
    /// archive whose layers are mostly zeros loads, while zstd streams that expand further are refused; the temporary
    /// file system's free space is watched besides.
    /// </summary>
    public long MaxExpansion { get; init; } = 1100;

    /// <summary>The defaults, with <c>FERRY_MAX_EXPANSION</c> from the environment when it is set.</summary>
    public static ArchiveLimits Default { get; } = new()
    {
        MaxExpansion = long.TryParse(Environment.GetEnvironmentVariable("FERRY_MAX_EXPANSION"), out var configured) && configured is >= 1 and <= 1_000_000 ? configured : 1100,
    };

    /// <summary>Limits with another expansion ratio.</summary>
    /// <param name="maxExpansion">The ratio, 1 to 1,000,000.</param>
    /// <returns>The limits.</returns>
    /// <exception cref="InvalidInputException">Out of range.</exception>
    public static ArchiveLimits WithMaxExpansion(long maxExpansion) =>
        maxExpansion is >= 1 and <= 1_000_000 ? Default with { MaxExpansion = maxExpansion } : throw new InvalidInputException($"the largest expansion ratio must be between 1 and 1000000, not {maxExpansion} (MaxExpansion)");
}
