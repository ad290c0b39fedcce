using System.Text;
using Ferry.Errors;

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

    public static string ReadSecret(string prompt, string why)
    {
        RequireTerminal(why);
        Console.Error.Write(prompt);
        var secret = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.Length--;
                }

                continue;
            }

            if (key.KeyChar == '\u0004' && secret.Length == 0)
            {
                break; // Ctrl-D
            }

            if (!char.IsControl(key.KeyChar))
            {
                secret.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return secret.ToString();
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
