using Ferry.Cli.Commands;

namespace Ferry.Cli;

/// <summary>The entry point: builds the command tree and runs it.</summary>
internal static class Program
{
    public static Task<int> Main(string[] args) => FerryCommandLine.RunAsync(args);
}
