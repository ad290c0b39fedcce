using System.CommandLine;
using Ferry.Cli.Output;

namespace Ferry.Cli.Commands;

/// <summary>The root command and the one place where parse errors become an exit code.</summary>
internal static class FerryCommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Ferry saves container images from registries into archives that docker, podman and skopeo load.")
        {
            SaveCommand.Create(),
            VerifyCommand.Create(),
        };

        var parseResult = root.Parse(args);
        if (parseResult.Errors.Count > 0)
        {
            var command = parseResult.CommandResult.Command;
            var name = command is RootCommand ? "ferry" : $"ferry {command.Name}";
            ErrorPresenter.WriteError($"{parseResult.Errors[0].Message} (see '{name} --help')");
            return ExitCodes.Failure;
        }

        return await parseResult.InvokeAsync().ConfigureAwait(false);
    }
}
