using System.CommandLine;
using System.Text;
using Ferry.Cli.Output;
using Ferry.Errors;

namespace Ferry.Cli.Commands;

/// <summary>
/// <c>ferry completion bash|zsh|fish|pwsh</c>: prints a completion script for the shell, generated from the command
/// tree itself (commands and every option spelling), so it cannot drift from the CLI and needs no helper program.
/// </summary>
internal static class CompletionCommand
{
    public static Command Create(RootCommand root)
    {
        var shell = new Argument<string>("shell") { Description = "bash, zsh, fish or pwsh" };
        shell.AcceptOnlyFromAmong("bash", "zsh", "fish", "pwsh");
        var command = new Command("completion", """
            Print a shell completion script: commands, options, and file names where arguments are expected.

            Examples:
              source <(ferry completion bash)                        # or into ~/.local/share/bash-completion/completions/ferry
              ferry completion zsh > "${fpath[1]}/_ferry"
              ferry completion fish > ~/.config/fish/completions/ferry.fish
              ferry completion pwsh | Out-String | Invoke-Expression
            """)
        {
            shell,
        };
        command.SetAction(parseResult =>
        {
            var commands = root.Subcommands.Select(c => (c.Name, Options: c.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith('-')).Distinct().Append("--help").ToList())).ToList();
            Console.Out.Write(parseResult.GetValue(shell) switch
            {
                "bash" => Bash(commands),
                "zsh" => "#compdef ferry\nautoload -U +X bashcompinit && bashcompinit\n" + Bash(commands),
                "fish" => Fish(commands),
                "pwsh" => PowerShell(commands),
                var other => throw new InvalidInputException($"no completion for shell {other}"),
            });
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Bash(List<(string Name, List<string> Options)> commands)
    {
        var script = new StringBuilder();
        script.Append("# ferry completion for bash (ferry completion bash)\n_ferry() {\n");
        script.Append("  local cur=${COMP_WORDS[COMP_CWORD]} opts\n");
        script.Append("  if [[ $COMP_CWORD -eq 1 ]]; then COMPREPLY=($(compgen -W \"").Append(string.Join(' ', commands.Select(c => c.Name))).Append(" --help --version\" -- \"$cur\")); return; fi\n");
        script.Append("  case ${COMP_WORDS[1]} in\n");
        foreach (var (name, options) in commands)
        {
            script.Append("    ").Append(name).Append(") opts=\"").Append(string.Join(' ', options)).Append("\" ;;\n");
        }

        script.Append("    *) opts=\"\" ;;\n  esac\n");
        script.Append("  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\")); else COMPREPLY=($(compgen -f -- \"$cur\")); fi\n}\n");
        script.Append("complete -o default -F _ferry ferry\n");
        return script.ToString();
    }

    private static string Fish(List<(string Name, List<string> Options)> commands)
    {
        var script = new StringBuilder("# ferry completion for fish (ferry completion fish)\ncomplete -c ferry -f\n");
        script.Append("complete -c ferry -n __fish_use_subcommand -a \"").Append(string.Join(' ', commands.Select(c => c.Name))).Append("\"\n");
        foreach (var (name, options) in commands)
        {
            foreach (var option in options)
            {
                var flag = option.StartsWith("--", StringComparison.Ordinal) ? $"-l {option[2..]}" : option.Length == 2 ? $"-s {option[1..]}" : $"-o {option[1..]}";
                script.Append("complete -c ferry -n \"__fish_seen_subcommand_from ").Append(name).Append("\" ").Append(flag).Append('\n');
            }

            script.Append("complete -c ferry -n \"__fish_seen_subcommand_from ").Append(name).Append("\" -F\n");
        }

        return script.ToString();
    }

    private static string PowerShell(List<(string Name, List<string> Options)> commands)
    {
        var script = new StringBuilder("# ferry completion for PowerShell (ferry completion pwsh)\n$ferryOptions = @{\n");
        foreach (var (name, options) in commands)
        {
            script.Append("  '").Append(name).Append("' = @(").Append(string.Join(", ", options.Select(o => $"'{o}'"))).Append(")\n");
        }

        script.Append("}\n");
        script.Append("Register-ArgumentCompleter -Native -CommandName ferry -ScriptBlock {\n");
        script.Append("  param($wordToComplete, $commandAst, $cursorPosition)\n");
        script.Append("  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })\n");
        script.Append("  $candidates = if ($words.Count -le 1 -or ($words.Count -eq 2 -and $wordToComplete)) { $ferryOptions.Keys } elseif ($wordToComplete -like '-*') { $ferryOptions[$words[1]] } else { @() }\n");
        script.Append("  $candidates | Where-Object { $_ -like \"$wordToComplete*\" } | ForEach-Object { [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_) }\n}\n");
        return script.ToString();
    }
}
