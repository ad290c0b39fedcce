using System.Text.RegularExpressions;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// The per-command reference in docs/ cannot drift from the CLI: each `ferry COMMAND --help` block there must be
/// exactly what the CLI prints (regenerate with scripts/update-docs.sh). And the README stays one screen.
/// </summary>
public sealed partial class DocsTests
{
    [Fact]
    public async Task HelpBlocksInTheDocs_MatchTheCli()
    {
        var docs = Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(FerryCli.AssemblyPath)!)!, "..", "..", "..", "..", "docs");
        var blocks = Directory.GetFiles(docs, "*.md").SelectMany(f => HelpBlock().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Command: m.Groups[1].Value, Text: m.Groups[2].Value.TrimEnd()))).ToList();
        Assert.True(blocks.Count >= 8, $"only {blocks.Count} help blocks found in {docs}");
        foreach (var (file, command, text) in blocks)
        {
            var help = await FerryCli.RunAsync(command, "--help");
            Assert.True(help.ExitCode == 0, help.StandardError);
            Assert.True(text == help.StandardOutput.TrimEnd(), $"docs/{file}: the `ferry {command} --help` block is stale; run scripts/update-docs.sh");
        }
    }

    [Fact]
    public void Readme_IsOneScreen_WithTheTwoCommands()
    {
        var readme = File.ReadAllText(Path.Combine(Path.GetDirectoryName(Path.GetDirectoryName(FerryCli.AssemblyPath)!)!, "..", "..", "..", "..", "README.md"));
        Assert.InRange(readme.Split('\n').Length, 20, 80);
        Assert.Contains("./ferry save", readme, StringComparison.Ordinal);
        Assert.Contains("./test.sh", readme, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"<!-- help:(\w+) -->\n```text\n(.*?)```\n<!-- /help:\1 -->", RegexOptions.Singleline)]
    private static partial Regex HelpBlock();
}
