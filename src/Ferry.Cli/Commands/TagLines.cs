using Ferry.Cli.Output;
using Ferry.Errors;
using Ferry.Registry;

namespace Ferry.Cli.Commands;

/// <summary>A run's lines with their repositories expanded into tags, each repository said once on stderr.</summary>
internal static class TagLines
{
    public static async Task<List<string>> ExpandAsync(IReadOnlyList<string> lines, TagSelection selection, RegistryAccess access, string? sourceRegistry, OutputMode mode, CancellationToken cancellationToken)
    {
        var expansion = await Images.ExpandTagsAsync(lines, selection, access, sourceRegistry, cancellationToken: cancellationToken).ConfigureAwait(false);
        Say(expansion.Repositories, mode);
        return expansion.Images.Count > 0
            ? [.. expansion.Images]
            : throw new InvalidInputException("no tag of the listed repositories matches the tag options; nothing to do");
    }

    /// <summary>Each listed repository once: <c>REPO: N of M tag(s)</c>, or a <c>repository-listed</c> JSON object.</summary>
    public static void Say(IEnumerable<Listing.ExpandedRepository> repositories, OutputMode mode)
    {
        foreach (var repository in repositories)
        {
            if (mode.TalksInText)
            {
                Console.Error.WriteLine($"ferry: {TerminalText.Escape(repository.Name)}: {repository.Taken.Count} of {repository.Listed} tag(s)");
            }
            else if (mode.Json)
            {
                JsonLines.Write("repository-listed", w =>
                {
                    w.WriteString("repository", repository.Name);
                    w.WriteNumber("listed", repository.Listed);
                    w.WriteNumber("taken", repository.Taken.Count);
                });
            }
        }
    }
}
