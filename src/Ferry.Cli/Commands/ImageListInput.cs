using Ferry.Errors;
using Ferry.Saving;

namespace Ferry.Cli.Commands;

/// <summary>Where a command's image list comes from: arguments, <c>-f FILE</c>, or stdin (save and copy alike).</summary>
internal static class ImageListInput
{
    /// <summary>
    /// The list from <c>-f FILE</c>, or from stdin (<c>-f -</c>, or no image given and stdin redirected); typed at a
    /// prompt only when asked for with <c>-f -</c> on a terminal. <see langword="null"/> when images are positional.
    /// </summary>
    public static IReadOnlyList<ImageListEntry>? Read(IReadOnlyList<string> images, string? listFile, bool passwordFromStdin)
    {
        if (listFile is { } file)
        {
            if (images.Count > 0)
            {
                throw new InvalidInputException("give images either as arguments or with -f, not both");
            }

            if (file == "-")
            {
                return ReadStdin(passwordFromStdin, prompt: true);
            }

            if (!File.Exists(file))
            {
                throw new InvalidInputException($"image list {file} does not exist");
            }

            return ImageList.ParseFile(file);
        }

        if (images.Count > 0)
        {
            return null;
        }

        if (!Console.IsInputRedirected)
        {
            throw new InvalidInputException("no image given: name images, give a list with -f FILE, pipe one in, or type one with -f -");
        }

        return ReadStdin(passwordFromStdin, prompt: false);
    }

    private static IReadOnlyList<ImageListEntry> ReadStdin(bool passwordFromStdin, bool prompt)
    {
        if (passwordFromStdin)
        {
            throw new InvalidInputException("--password-stdin reads stdin, so the image list cannot come from it: give images as arguments or with -f");
        }

        if (prompt && !Console.IsInputRedirected)
        {
            Console.Error.WriteLine("Enter images, one per line; end with Ctrl-D:");
            var lines = new List<string>();
            while (true)
            {
                Console.Error.Write(">>> ");
                if (Console.ReadLine() is not { } line)
                {
                    Console.Error.WriteLine();
                    break;
                }

                lines.Add(line);
            }

            return ImageList.Parse(new StringReader(string.Join('\n', lines)));
        }

        return ImageList.Parse(Console.In);
    }

    /// <summary>
    /// <c>--shard INDEX/COUNT</c>: only the list's lines (or positional images) of that part, said on stderr;
    /// an empty part is not an error (nothing to do).
    /// </summary>
    public static (IReadOnlyList<ImageListEntry>? List, List<string> Lines) TakeShard(IReadOnlyList<ImageListEntry>? list, List<string> lines, Shard shard, Output.OutputMode mode)
    {
        var all = lines.Count;
        list = list?.Where(e => shard.Contains(e.Line)).ToList();
        lines = list?.Select(e => e.Line).ToList() ?? lines.Where(shard.Contains).ToList();
        if (mode.TalksInText)
        {
            Console.Error.WriteLine($"ferry: shard {shard}: {lines.Count} of the {all} image(s)");
        }

        return (list, lines);
    }
}
