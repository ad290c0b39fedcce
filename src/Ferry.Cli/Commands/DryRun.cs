using Ferry.Cli.Output;
using Ferry.Registry;

namespace Ferry.Cli.Commands;

/// <summary><c>--dry-run</c>: the images a save or copy would take, each with the digest its tag points at now; no blob is read.</summary>
internal static class DryRun
{
    public static async Task<int> PrintAsync(IReadOnlyList<string> lines, IReadOnlyList<Files.FileArtifact> files, RegistryAccess access, string? sourceRegistry, OutputMode mode, CancellationToken cancellationToken)
    {
        foreach (var file in files)
        {
            if (mode.TalksInText)
            {
                Console.Error.WriteLine($"ferry: would carry {TerminalText.Escape(file.Path)} as {file.Name} ({file.MediaType}, {Units.Bytes(new FileInfo(file.Path).Length)})");
            }
        }

        var digests = await Images.DigestsAsync(lines, access, sourceRegistry, cancellationToken: cancellationToken).ConfigureAwait(false);
        foreach (var line in digests)
        {
            if (line.Digest is { } digest)
            {
                Console.Out.WriteLine($"{line.Image}\t{digest}");
            }

            if (mode.Json)
            {
                JsonLines.Write("dry-run-image", w =>
                {
                    w.WriteString("image", line.Image);
                    if (line.Digest is { } d)
                    {
                        w.WriteString("digest", d.ToString());
                    }
                    else
                    {
                        w.WriteString("error", line.Failure!.Reason);
                        w.WriteString("kind", JsonLines.Name(line.Failure.Kind));
                    }
                });
            }
            else if (line.Failure is { } failure)
            {
                ErrorPresenter.WriteError(EventText.ImageFailure(failure.Image, failure.Reason), mode);
            }
        }

        var found = digests.Count(d => d.Digest is not null);
        if (mode.TalksInText)
        {
            Console.Error.WriteLine($"ferry: dry run: {found} of {digests.Count} image(s) found; nothing downloaded");
        }

        return RunOutcome.ExitCode(found + files.Count, digests.Count - found);
    }
}
