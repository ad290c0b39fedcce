using Ferry.Errors;

namespace Ferry.Cli.Output;

/// <summary>Maps failures to one line on stderr and an exit code. No stack trace unless --debug.</summary>
internal static class ErrorPresenter
{
    public static void WriteError(string message)
    {
        if (JsonLines.Enabled)
        {
            JsonLines.Write("error", w => w.WriteString("message", message));
            return;
        }

        Console.Error.WriteLine($"ferry: error: {TerminalText.Escape(message)}");
    }

    public static int Present(Exception exception, bool debug)
    {
        switch (exception)
        {
            case OperationCanceledException:
                if (JsonLines.Enabled)
                {
                    JsonLines.Write("cancelled", _ => { });
                }
                else
                {
                    Console.Error.WriteLine("ferry: cancelled (a partial output file, if any, was removed)");
                }

                return ExitCodes.Cancelled;
            case FerryException ferry:
                WriteError(ferry.Message);
                break;
            case IOException or UnauthorizedAccessException:
                WriteError(exception.Message);
                break;
            default:
                WriteError($"unexpected {exception.GetType().Name}: {exception.Message}");
                break;
        }

        if (debug)
        {
            Console.Error.WriteLine(exception.ToString());
        }

        return ExitCodes.Failure;
    }
}
