namespace Ferry.Archives.Format;

/// <summary>
/// The one place where names inside an archive are normalised and links resolved: every reader (load, verify,
/// inspect, the daemon's export) goes through it, so they accept and refuse the same names.
/// </summary>
public static class EntryNames
{
    /// <summary>Normalises an entry or reference name; <see langword="null"/> when it is absolute, holds a NUL, or climbs out with <c>..</c>.</summary>
    /// <param name="name">The raw name.</param>
    /// <returns>The name without <c>./</c> prefixes, empty segments and trailing slashes.</returns>
    public static string? Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith('/') || name.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var parts = new List<string>();
        foreach (var part in name.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                return null;
            }

            parts.Add(part);
        }

        return parts.Count == 0 ? null : string.Join('/', parts);
    }

    /// <summary>
    /// Where a link entry points, as a normalised name inside the archive; <see langword="null"/> when the target is
    /// absolute or climbs above the archive root. Symbolic links are relative to the link's directory, hard links to the root.
    /// </summary>
    /// <param name="linkName">The link entry's (normalised) name.</param>
    /// <param name="target">The link target as stored.</param>
    /// <param name="isHardLink">Whether it is a hard link.</param>
    /// <returns>The target's name, or <see langword="null"/>.</returns>
    public static string? ResolveLink(string linkName, string target, bool isHardLink)
    {
        ArgumentNullException.ThrowIfNull(linkName);
        ArgumentNullException.ThrowIfNull(target);
        if (target.StartsWith('/') || target.Contains('\0', StringComparison.Ordinal))
        {
            return null;
        }

        var directory = linkName.Contains('/', StringComparison.Ordinal) ? linkName[..linkName.LastIndexOf('/')] : string.Empty;
        return ResolveWithin(isHardLink || directory.Length == 0 ? target : directory + "/" + target);
    }

    /// <summary>Resolves <c>..</c> lexically; <see langword="null"/> when the path climbs above the archive root.</summary>
    private static string? ResolveWithin(string path)
    {
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                if (parts.Count == 0)
                {
                    return null;
                }

                parts.RemoveAt(parts.Count - 1);
                continue;
            }

            parts.Add(part);
        }

        return parts.Count == 0 ? null : string.Join('/', parts);
    }
}
