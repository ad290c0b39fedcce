using Ferry.References;

namespace Ferry.Saving;

/// <summary>One meaningful line of an image list.</summary>
/// <param name="LineNumber">1-based line number in the list.</param>
/// <param name="Line">The line as written (trimmed), which is what a failed list records.</param>
/// <param name="Reference">The parsed reference, or <see langword="null"/> when the line is malformed.</param>
/// <param name="Error">Why the line is malformed, otherwise <see langword="null"/>.</param>
public sealed record ImageListEntry(int LineNumber, string Line, ImageReference? Reference, string? Error);

/// <summary>
/// Parses image lists as image-tools/hangar do: one reference per line (<c>name[:tag][@digest]</c>), blank
/// lines and lines starting with <c>#</c> or <c>//</c> ignored, whitespace trimmed, a BOM and CRLF line ends
/// accepted. A malformed line is kept with its error so the run reports it by line number and goes on.
/// </summary>
public static class ImageList
{
    /// <summary>Parses a list.</summary>
    /// <param name="reader">The list text.</param>
    /// <returns>The entries, in list order.</returns>
    public static IReadOnlyList<ImageListEntry> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var entries = new List<ImageListEntry>();
        var number = 0;
        while (reader.ReadLine() is { } raw)
        {
            number++;
            var line = raw.Trim().TrimStart('\uFEFF').Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            entries.Add(ImageReference.TryParse(line, out var reference, out var error)
                ? new ImageListEntry(number, line, reference, null)
                : new ImageListEntry(number, line, null, $"line {number}: {error}"));
        }

        return entries;
    }

    /// <summary>Parses a list file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The entries, in list order.</returns>
    public static IReadOnlyList<ImageListEntry> ParseFile(string path)
    {
        using var reader = new StreamReader(path, detectEncodingFromByteOrderMarks: true);
        return Parse(reader);
    }
}
