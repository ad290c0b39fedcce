using System.CommandLine;
using Ferry.Cli.Output;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry extract</c>: writes a file artifact's files out of a bundle, without a registry.</summary>
internal static class ExtractCommand
{
    public static Command Create()
    {
        var archive = new Argument<string>("archive") { Description = "Any archive Ferry reads (tar, tar.gz, tar.zst, a layout directory)" };
        var name = new Argument<string>("name") { Description = "The artifact's name in it, as ferry inspect lists it (files/app.iso:1.0)" };
        var output = new Option<string>("--output", "-o") { Description = "The directory the files go into (made when missing)", DefaultValueFactory = _ => "." };
        var force = new Option<bool>("--force") { Description = "Replace files that exist (by default an existing file stops the extraction before anything is written)" };
        var command = new Command("extract", """
            Write the files of a file artifact (ferry save --add-file, oras push) out of an archive, without a registry.

            Each file is named by its title annotation, as oras pull names it, and checked against its digest before it
            appears; a title that is not a plain file name is refused.

            Examples:
              ferry save -o bundle.tar app:1.0 --add-file installer.iso:files/installer:1.0
              ferry extract bundle.tar files/installer:1.0 -o /srv/isos
            """)
        {
            archive, name, output, force,
        };
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var directory = parseResult.GetValue(output)!;
                var files = await Images.ExtractAsync(parseResult.GetValue(archive)!, parseResult.GetValue(name)!, directory, parseResult.GetValue(force), reading.Limits(parseResult), cancellationToken).ConfigureAwait(false);
                foreach (var file in files)
                {
                    Console.Out.WriteLine($"{TerminalText.Escape(file.Path)}\t{file.Digest}");
                }

                Console.Error.WriteLine($"ferry: wrote {files.Count} file(s) ({Units.Bytes(files.Sum(f => f.Size))}) to {TerminalText.Escape(directory)}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false, OutputMode.Text);
            }
        });
        return command;
    }
}
