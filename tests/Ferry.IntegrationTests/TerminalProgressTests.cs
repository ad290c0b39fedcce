using System.Globalization;
using System.Text.RegularExpressions;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Issue #15's live display, on a real terminal (tmux) of 80 and 120 columns, saving through a throttled registry:
/// per-image bars move (not only the total), no line wraps, the ETA is a real estimate while bytes move, sizes are
/// IEC, and the result lines come in list order although the first image finishes last.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed partial class TerminalProgressTests(RealComponentsFixture env)
{
    private const string Repository = "progress/terminal-with-a-rather-long-repository-name";

    [Theory]
    [InlineData(80, 24)]
    [InlineData(120, 30)]
    public async Task LiveBars_MovePerImage_FitTheTerminal_AndResultsComeInListOrder(int width, int height)
    {
        using var http = new HttpClient();
        // The first image is the biggest, so with -j it finishes last; its result line must still come first.
        int[] sizes = [6_000_000, 1_500_000, 1_500_000];
        for (var i = 0; i < sizes.Length; i++)
        {
            var image = TestImages.Image([TestImages.RandomLayer($"terminal-{i}", sizes[i], docker: true)], docker: true, label: $"terminal-{i}");
            await TestImages.PushImageAsync(http, env.Host, $"{Repository}/app{i + 1}", image, "1");
        }

        await using var proxy = new ThrottlingProxy(env.Registry.Port, 32 * 1024, TimeSpan.FromMilliseconds(20));
        using var dir = new TempDirectory();
        var images = string.Join(' ', Enumerable.Range(1, sizes.Length).Select(i => $"{proxy.Host}/{Repository}/app{i}:1"));
        await using var terminal = await TmuxTerminal.StartAsync($"dotnet {FerryCli.AssemblyPath} save -j 3 -o {dir.File("t.tar")} {images}", width, height);
        var screens = await terminal.RecordUntilExitAsync(TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(2));
        var last = screens[^1];
        Assert.Contains($"{TmuxTerminal.ExitMarker}0", last);

        // No line wider than the terminal, on any screen (capture-pane joins wrapped lines).
        var widest = screens.SelectMany(s => s).MaxBy(l => l.Length)!;
        Assert.True(widest.Length <= width, $"a line of {widest.Length} columns in a {width}-column terminal:\n{widest}");

        // The first image's own bar moves: its percentage takes several values below 100.
        var firstBar = screens.SelectMany(s => s).Select(l => ImageBar().Match(l)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).Distinct().ToList();
        Assert.True(firstBar.Count(p => p < 100) >= 3, $"the [1/3] bar showed {string.Join(", ", firstBar)} %:\n{Dump(screens)}");

        // The total shows a real ETA (not 0:00) while it is between 10 and 70 %.
        var etas = screens.SelectMany(s => s).Select(l => TotalBar().Match(l)).Where(m => m.Success && int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) is >= 10 and <= 70).ToList();
        Assert.NotEmpty(etas);
        Assert.Contains(etas, m => m.Groups[2].Value != "0:00");

        // One unit system: IEC.
        Assert.DoesNotContain(screens.SelectMany(s => s), l => Regex.IsMatch(l, @"\d (MB|KB|GB)\b"));

        // Result lines in list order, and the bars cleared at the end.
        // (A result line longer than the terminal is wrapped by the console, at a space: its start begins with "[".)
        var results = last.Where(l => l.StartsWith('[')).ToList();
        Assert.Equal(["[1/3]", "[2/3]", "[3/3]"], results.Select(l => l[..5]));
        Assert.DoesNotContain(last, l => l.StartsWith("total ", StringComparison.Ordinal));
    }

    private static string Dump(List<string[]> screens) => string.Join("\n----\n", screens.Select(s => string.Join('\n', s.Where(l => l.Length > 0))));

    [GeneratedRegex(@"^\[1/3\] .*?\s(\d+)%")]
    private static partial Regex ImageBar();

    [GeneratedRegex(@"^total \d+/3 images.*?\s(\d+)%.*ETA (\d+:\d\d)")]
    private static partial Regex TotalBar();
}
