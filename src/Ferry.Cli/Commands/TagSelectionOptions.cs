using System.CommandLine;
using Ferry.Registry;

namespace Ferry.Cli.Commands;

/// <summary>Whole repositories (<c>save</c>, <c>copy</c>, <c>ls</c>): which tags a line naming a repository becomes.</summary>
internal sealed class TagSelectionOptions
{
    public Option<bool> AllTags { get; } = new("--all-tags") { Description = "A repository without a tag (REPO, not REPO:TAG) means every tag it has (listed once, each tag then one image of the run)" };

    public Option<string?> Regex { get; } = new("--tag-regex") { Description = "Only tags this regular expression finds (anywhere in the tag, as skopeo sync; anchor with ^…$), e.g. 'v1\\.2\\..*'" };

    public Option<string?> Semver { get; } = new("--tag-semver") { Description = "Only tags that are versions in this range, npm syntax: '>=1.2 <2', '^1.4', '~2.0' (v prefixes and short versions count)" };

    public Option<string?> Exclude { get; } = new("--tag-exclude") { Description = "Not the tags this regular expression finds" };

    public Option<int?> Newest { get; } = new("--newest") { Description = "Only the newest N tags (by version when every tag is one, else by the registry's order)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { AllTags, Regex, Semver, Exclude, Newest })
        {
            command.Options.Add(option);
        }
    }

    public TagSelection Selection(ParseResult parseResult) => new()
    {
        AllTags = parseResult.GetValue(AllTags),
        Regex = parseResult.GetValue(Regex),
        Semver = parseResult.GetValue(Semver),
        Exclude = parseResult.GetValue(Exclude),
        Newest = parseResult.GetValue(Newest),
    };
}
