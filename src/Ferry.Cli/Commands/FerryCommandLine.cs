using System.CommandLine;
using System.Runtime.InteropServices;
using Ferry.Cli.Output;

namespace Ferry.Cli.Commands;

/// <summary>The root command and the one place where parse errors become an exit code.</summary>
internal static class FerryCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("""
            Ferry carries container images: it saves them from registries or a Docker Engine into one archive that docker,
            podman and skopeo load, and loads archives back into registries or Docker with every digest unchanged.

            Examples:
              ferry save -o bundle.tar -f images.txt -a amd64,arm64
              ferry load bundle.tar --to registry.internal:5000
              ferry COMMAND --help
            """)
        {
            SaveCommand.Create(),
            CopyCommand.Create(),
            VerifyCommand.Create(),
            SignCommand.Create(),
            LoadCommand.Create(),
            InspectCommand.Create(),
            ExtractCommand.Create(),
            ListCommand.Create(),
            MergeCommand.Create(),
            CacheCommand.Create(),
            ServeCommand.Create(),
            LoginCommands.CreateLogin(),
            LoginCommands.CreateLogout(),
        };
        root.Subcommands.Add(CompletionCommand.Create(root));

        var parseResult = root.Parse(CommandLineHabits.Normalize(args, root));
        if (parseResult.CommandResult.Command == root)
        {
            ShortenCommandRows(root);
        }
        if (CommandLineHabits.Problem(parseResult) is { } problem && !parseResult.Tokens.Any(t => t.Value is "--help" or "-h" or "-?"))
        {
            ErrorPresenter.WriteError(problem, OutputMode.Text);
            return ExitCodes.Failure;
        }

        // Ctrl-C / SIGTERM cancel the running command, which then removes its temporary output and exits
        // with 130. System.CommandLine's own handler is off: it exits the process before cleanup runs.
        using var cancellation = new CancellationTokenSource();
        PosixSignal? received = null;
        void Cancel(PosixSignalContext context)
        {
            context.Cancel = true;
            received ??= context.Signal;
            cancellation.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cancel);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cancel);
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
        var exitCode = await parseResult.InvokeAsync(configuration, cancellation.Token).ConfigureAwait(false);

        // A graceful stop reports the signal as shells do: 128 + its number (130 for SIGINT, 143 for SIGTERM).
        return exitCode == ExitCodes.Cancelled && received == PosixSignal.SIGTERM ? ExitCodes.Terminated : exitCode;
    }

    /// <summary>
    /// <c>ferry --help</c> lists each command by its first paragraph; the rest of its description (the examples) is for
    /// <c>ferry COMMAND --help</c>. Only done when the root command itself was parsed, so a command's own help keeps it all.
    /// </summary>
    private static void ShortenCommandRows(RootCommand root)
    {
        foreach (var command in root.Subcommands)
        {
            var first = (command.Description ?? string.Empty).Split("\n\n")[0];
            command.Description = string.Join(' ', first.Split('\n', StringSplitOptions.TrimEntries));
        }
    }
}
