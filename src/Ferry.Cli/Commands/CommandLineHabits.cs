using System.CommandLine;
using System.CommandLine.Parsing;

namespace Ferry.Cli.Commands;

/// <summary>
/// Mistakes caught and habits honoured before and after parsing: global flags (<c>--debug</c>, <c>-q</c>) before the
/// command move after it; image-tools' single-dash <c>-debug</c> and <c>-compress</c> mean <c>--debug</c> and <c>--compress</c> (not <c>-d ebug</c>); an unknown
/// option is an error with the closest known one, never an image name; an unknown command suggests the closest one.
/// </summary>
internal static class CommandLineHabits
{
    private static readonly string[] GlobalFlags = ["--debug", "--quiet", "-q"];

    /// <summary>Rewrites the arguments: seed spellings, and global flags given before the command.</summary>
    public static string[] Normalize(string[] args, RootCommand root)
    {
        // Bare `ferry` shows what it can do, as docker and git do.
        if (args.Length == 0)
        {
            return ["--help"];
        }

        var commandAt = args.ToList().FindIndex(a => root.Subcommands.Any(c => c.Name == a));
        var command = commandAt >= 0 ? root.Subcommands.First(c => c.Name == args[commandAt]) : root;

        // Go's flag spellings, as image-tools' own examples write them: -compress=zstd, -debug, -failed x.txt. A single-dash
        // word that is a long option of the command is that option (never anything else: options of one letter are -x).
        var longNames = OptionNames(command).Concat(GlobalFlags.Where(f => f.StartsWith("--", StringComparison.Ordinal))).ToHashSet(StringComparer.Ordinal);
        var end = Array.IndexOf(args, "--");
        var rewritten = args.Select((a, i) => (end < 0 || i < end) && a.Length > 2 && a[0] == '-' && a[1] != '-' && longNames.Contains("-" + a.Split('=')[0]) ? "-" + a : a).ToList();
        if (commandAt <= 0)
        {
            return [.. rewritten];
        }

        var leading = rewritten.Take(commandAt).ToList();
        if (!leading.All(GlobalFlags.Contains))
        {
            return [.. rewritten];
        }

        return [rewritten[commandAt], .. leading, .. rewritten.Skip(commandAt + 1)];
    }

    /// <summary>One line for what went wrong, with a suggestion when one is close; <see langword="null"/> when all is well.</summary>
    public static string? Problem(ParseResult parseResult)
    {
        var command = parseResult.CommandResult.Command;
        var name = command is RootCommand ? "ferry" : $"ferry {command.Name}";
        if (parseResult.Errors.Count > 0)
        {
            var unknown = parseResult.UnmatchedTokens.FirstOrDefault() ?? parseResult.Tokens.FirstOrDefault(t => t.Type == TokenType.Argument)?.Value;
            if (command is RootCommand && unknown is "version" or "-v" or "-V" or "--v")
            {
                return $"ferry has no '{unknown}'; the version is 'ferry --version'";
            }

            if (command is RootCommand && unknown is not null && !unknown.StartsWith('-'))
            {
                var closest = Closest(unknown, command.Subcommands.Select(c => c.Name));
                return $"unknown command '{unknown}'{(closest is null ? string.Empty : $"; did you mean '{closest}'?")} (see 'ferry --help')";
            }

            var hint = command is RootCommand && unknown is not null && Closest(unknown, command.Subcommands.Select(c => c.Name)) is { } sub
                ? $"; did you mean '{sub}'?"
                : unknown is not null && unknown.StartsWith('-') && Closest(unknown, OptionNames(command)) is { } option ? $"; did you mean {option}?" : string.Empty;
            return $"{string.Join(' ', parseResult.Errors[0].Message.Split(['\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}{hint} (see '{name} --help')";
        }

        // Arguments of any arity take what they are given: a misspelt option would become an image or archive name.
        foreach (var argument in parseResult.CommandResult.Children.OfType<ArgumentResult>())
        {
            if (argument.Tokens.Select(t => t.Value).FirstOrDefault(v => v.Length > 1 && v.StartsWith('-')) is { } misspelt)
            {
                var option = misspelt.Split('=')[0];
                var hint = Closest(option, OptionNames(command)) is { } known ? $"; did you mean {known}?" : string.Empty;
                return $"unknown option {option}{hint} (see '{name} --help')";
            }
        }

        return null;
    }

    private static IEnumerable<string> OptionNames(Command command) =>
        command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal)).Distinct();

    /// <summary>The candidate closest to <paramref name="word"/> (edit distance, or one containing the other), when close enough.</summary>
    private static string? Closest(string word, IEnumerable<string> candidates)
    {
        var bare = word.TrimStart('-');
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var candidate in candidates)
        {
            var other = candidate.TrimStart('-');
            var distance = other.Contains(bare, StringComparison.Ordinal) || bare.Contains(other, StringComparison.Ordinal) ? Math.Abs(other.Length - bare.Length) / 2 : Distance(bare, other);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        return best is not null && bestDistance <= Math.Max(2, bare.Length / 3) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var previous = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var current = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), previous + (a[i - 1] == b[j - 1] ? 0 : 1));
                previous = current;
            }
        }

        return row[b.Length];
    }
}
