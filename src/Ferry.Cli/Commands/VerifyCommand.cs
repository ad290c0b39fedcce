using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Reading;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry verify</c>: checks every blob's digest and size and that every reference resolves.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var archive = new Argument<string>("archive") { Description = "Any archive Ferry reads: tar, tar.gz, tar.zst (detected by content) or a layout directory; - reads stdin" };
        var command = new Command("verify", """
            Check an archive: every blob's digest and size, every reference resolvable.

            It reads with the reader load uses. Exit 0 when sound, 1 otherwise.

            Examples:
              ferry verify bundle.tar.zst
              ferry verify - < bundle.tar.zst
            """)
        {
            archive,
        };
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                reading.Apply(parseResult);
                var path = parseResult.GetValue(archive)!;
                var result = path == "-"
                    ? await ArchiveVerifier.VerifyAsync(StdinArchive.Open(), "stdin", cancellationToken).ConfigureAwait(false)
                    : await ArchiveVerifier.VerifyAsync(path, cancellationToken).ConfigureAwait(false);
                foreach (var problem in result.Problems)
                {
                    Console.Error.WriteLine($"ferry: {path}: {TerminalText.Escape(problem)}");
                }

                foreach (var image in result.Images)
                {
                    Console.Out.WriteLine($"{TerminalText.Escape(image.Name)}\t{image.Digest}");
                }

                if (!result.IsValid)
                {
                    Console.Error.WriteLine($"ferry: {path}: NOT valid ({result.Problems.Count} problem(s))");
                    return ExitCodes.Failure;
                }

                Console.Error.WriteLine($"ferry: {path}: ok — {result.Images.Count} image(s), {result.Blobs} blobs, {Units.Bytes(result.BlobBytes)} verified (compression: {result.Compression}){(result.Omitted > 0 ? $"; partial: {result.Omitted} layer(s) left out on purpose" : string.Empty)}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false);
            }
        });
        return command;
    }
}
