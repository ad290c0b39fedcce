using Ferry.References;
using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.Core.Tests;

/// <summary>The library as a C# user meets it (issue #15): the obvious overloads, text that reads well, events in order.</summary>
public sealed class LibraryApiShapeTests
{
    [Fact]
    public void PlatformSelection_ParsesWhatTheCliTakes()
    {
        var two = PlatformSelection.Parse("linux/amd64, arm64");
        Assert.Equal([Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")], two.Platforms);
        Assert.True(PlatformSelection.Parse("all").IsAll);
    }

    [Fact]
    public void ResultsAndEvents_PrintTheirContents_NotTypeNames()
    {
        var image = new SavedImage(ImageReference.Parse("nginx:1.27"), Digest.Parse("sha256:" + new string('a', 64)), [Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")], 1234, false);
        Assert.Equal("docker.io/library/nginx:1.27@sha256:aaaaaaaaaaaa [linux/amd64, linux/arm64/v8] 1234 bytes", image.ToString());
        var saved = new ImageWrittenEvent(image, 1, 1, TimeSpan.FromSeconds(1)).ToString();
        var bytes = new BytesTransferredEvent(10) { Positions = [1, 2] }.ToString();
        var result = new SaveResult([image], 2048, 1024, "/tmp/a.tar", []).ToString();
        foreach (var text in new[] { saved, bytes, result })
        {
            Assert.DoesNotContain("System.Collections", text, StringComparison.Ordinal);
        }

        Assert.Contains("Positions = [1, 2]", bytes, StringComparison.Ordinal);
        Assert.Equal("saved 1 image(s), 2048 bytes to /tmp/a.tar", result);
    }

    [Fact]
    public void InOrderProgress_ReportsOnTheCallingThreadInOrder()
    {
        var seen = new List<int>();
        var progress = new InOrderProgress<int>(seen.Add);
        for (var i = 0; i < 100; i++)
        {
            progress.Report(i);
        }

        Assert.Equal(Enumerable.Range(0, 100), seen);
    }

    /// <summary>The library's messages name its own settings (MountFrom, Platforms), never a CLI flag; the CLI maps them.</summary>
    [Fact]
    public void LibraryMessages_NameSettings_NotCommandLineFlags()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Ferry.slnx")))
        {
            root = root.Parent;
        }

        Assert.NotNull(root);
        var flagInMessage = new System.Text.RegularExpressions.Regex(@"(Exception\(|return )\$?""([^""\n]*[\s(])?--[a-z]");
        var offenders = Directory.EnumerateFiles(Path.Combine(root.FullName, "src", "Ferry.Core"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (File: Path.GetFileName(f), Line: i + 1, Text: line)))
            .Where(l => flagInMessage.IsMatch(l.Text))
            .Select(l => $"{l.File}:{l.Line}: {l.Text.Trim()}")
            .ToList();
        Assert.True(offenders.Count == 0, string.Join("\n", offenders));
    }
}
