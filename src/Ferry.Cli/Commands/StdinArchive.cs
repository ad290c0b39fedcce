namespace Ferry.Cli.Commands;

/// <summary>An archive given as <c>-</c>: stdin, which Ferry copies into a temporary file (an archive needs random access), and says so.</summary>
internal static class StdinArchive
{
    public static Stream Open()
    {
        if (!Console.IsInputRedirected)
        {
            throw new Errors.InvalidInputException("- reads an archive from stdin, but stdin is a terminal: pipe one in (ferry verify - < bundle.tar)");
        }

        Console.Error.WriteLine("ferry: reading the archive from stdin into a temporary file (an archive needs random access); it is removed afterwards");
        return Console.OpenStandardInput();
    }
}
