using System.CommandLine;
using Ferry.Errors;

namespace Ferry.Cli.Commands;

/// <summary>Every flag a command accepts takes effect or is refused: the refusal, in one line, for flags a mode cannot honour.</summary>
internal static class FlagRules
{
    /// <summary>Refuses the first of <paramref name="options"/> given on the command line (defaults do not count).</summary>
    /// <param name="parseResult">The parsed command line.</param>
    /// <param name="why">Why they do not apply, finishing "OPTION is for …".</param>
    /// <param name="options">The options the mode cannot honour.</param>
    public static void RefuseGiven(ParseResult parseResult, string why, params Option[] options)
    {
        foreach (var option in options)
        {
            if (parseResult.GetResult(option) is { Implicit: false })
            {
                throw new InvalidInputException($"{option.Name} is {why}");
            }
        }
    }
}
