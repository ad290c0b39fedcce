using System.CommandLine;
using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Cli.Commands;

/// <summary>
/// The platform options every command spells the same way: <c>--platform</c> (repeatable or comma-separated; <c>all</c>
/// for every platform), <c>--arch</c>/<c>--os</c> (image-tools' shorthand) and <c>--all-platforms</c>. One parser,
/// <see cref="PlatformSelection.Parse"/>; no option given is <see langword="null"/>: the source's or destination's default.
/// </summary>
/// <param name="verb">What the command does with a platform (save, copy, push).</param>
/// <param name="defaultText">What happens when none is named.</param>
/// <param name="shorthands">Whether --arch, --os and --all-platforms are offered.</param>
internal sealed class PlatformOptions(string verb, string defaultText, bool shorthands = true)
{
    public Option<string[]> Platform { get; } = new("--platform") { Description = $"Platform(s) to {verb}, os/arch[/variant], repeatable or comma-separated; all for every platform (default: {defaultText})" };

    public Option<string?> Arch { get; } = new("--arch", "-a") { Description = "Architectures, comma-separated: shorthand for --platform OS/ARCH" };

    public Option<string> Os { get; } = new("--os") { Description = "The OS for --arch", DefaultValueFactory = _ => "linux" };

    public Option<bool> AllPlatforms { get; } = new("--all-platforms") { Description = $"{char.ToUpperInvariant(verb[0])}{verb[1..]} every platform: the index is kept byte-for-byte (same digest)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Platform);
        if (shorthands)
        {
            command.Options.Add(Arch);
            command.Options.Add(Os);
            command.Options.Add(AllPlatforms);
        }
    }

    /// <summary>Whether any platform option was given.</summary>
    public bool Given(ParseResult parseResult) =>
        (parseResult.GetValue(Platform) ?? []).Length > 0 || (shorthands && (!string.IsNullOrWhiteSpace(parseResult.GetValue(Arch)) || parseResult.GetValue(AllPlatforms)));

    /// <summary>The selection, or <see langword="null"/> when no option was given.</summary>
    public PlatformSelection? Selection(ParseResult parseResult)
    {
        var texts = (parseResult.GetValue(Platform) ?? []).ToList();
        if (shorthands && parseResult.GetValue(Arch) is { } arch && !string.IsNullOrWhiteSpace(arch))
        {
            var os = parseResult.GetValue(Os)!;
            texts.AddRange(arch.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => $"{os}/{a}"));
        }

        var all = shorthands && parseResult.GetValue(AllPlatforms);
        if (all && texts.Count > 0)
        {
            throw new InvalidInputException("--all-platforms cannot be combined with --platform or --arch");
        }

        if (all)
        {
            return PlatformSelection.All;
        }

        if (texts.Count == 0)
        {
            return null;
        }

        var selections = texts.Select(PlatformSelection.Parse).ToList();
        return selections.Any(s => s.IsAll) ? PlatformSelection.All : PlatformSelection.Of(selections.SelectMany(s => s.Platforms));
    }
}
