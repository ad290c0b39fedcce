using Ferry.Errors;
using Spectre.Console;

namespace Ferry.Cli.Input;

/// <summary>Asks the user on the terminal: prompts go to stderr, secrets are read without echo.</summary>
internal static class TerminalPrompt
{
    public static bool IsAvailable => !Console.IsInputRedirected;

    public static string ReadLine(string prompt, string why)
    {
        RequireTerminal(why);
        Console.Error.Write(prompt);
        return Console.ReadLine()?.Trim() ?? throw new InvalidInputException($"{why}: no input");
    }

    /// <summary>
    /// Reads a secret without echo (not even asterisks, as docker login does), with Spectre.Console's secret prompt on
    /// stderr: Backspace edits, Enter ends, an empty answer is allowed (a registry then says no).
    /// </summary>
    public static string ReadSecret(string prompt, string why)
    {
        RequireTerminal(why);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error), Interactive = InteractionSupport.Yes });
        return console.Prompt(new TextPrompt<string>(Markup.Escape(prompt.TrimEnd())).Secret(null).AllowEmpty());
    }

    /// <summary>Reads a secret piped on stdin (<c>--password-stdin</c>): everything, without the trailing newline.</summary>
    public static string ReadSecretFromStdin()
    {
        if (!Console.IsInputRedirected)
        {
            throw new InvalidInputException("--password-stdin: stdin is a terminal; pipe the password in (e.g. cat pw.txt | ferry ...)");
        }

        var text = Console.In.ReadToEnd().TrimEnd('\n', '\r');
        if (text.Length == 0)
        {
            throw new InvalidInputException("--password-stdin: stdin was empty");
        }

        return text;
    }

    private static void RequireTerminal(string why)
    {
        if (!IsAvailable)
        {
            throw new InvalidInputException($"{why} needs a terminal to prompt on (stdin is not one); use --username with --password-stdin instead");
        }
    }
}
