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
        var saved = new ImageSavedEvent(image, 1, 1, TimeSpan.FromSeconds(1)).ToString();
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
}
