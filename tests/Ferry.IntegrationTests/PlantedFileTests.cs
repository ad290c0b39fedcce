using Ferry.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Ferry.IntegrationTests;

/// <summary>
/// The field, #24: a folder others can write. A neighbour plants a symbolic link (to a file of the user's, or dangling),
/// a directory or a FIFO at every name Ferry creates or reuses beside the output and in the cache. Nothing outside is
/// written, the planted thing is left as it was, the save still succeeds (without resume, or fetching instead of
/// using the cache), and each case is one warning line.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class PlantedFileTests(RealComponentsFixture env, ITestOutputHelper output)
{
    public static TheoryData<string, string> Plants()
    {
        var data = new TheoryData<string, string>();
        foreach (var name in new[] { ".out.tar.ferry-resume", ".out.tar.ferry-resume.journal", ".out.tar.ferry-resume.new" })
        {
            foreach (var kind in new[] { "symlink", "dangling", "directory", "fifo" })
            {
                data.Add(name, kind);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Plants))]
    public async Task Save_BesidePlantedResumeNames_NeverWritesThroughThem(string name, string kind)
    {
        using var dir = new TempDirectory("ferry-planted");
        using var outside = new TempDirectory("ferry-victim");
        var victim = outside.File("precious.txt");
        await File.WriteAllTextAsync(victim, "precious");
        var planted = dir.File(name);
        var dangling = outside.File("created-through-a-link");
        await PlantAsync(planted, kind, victim, dangling);

        foreach (var extra in new[] { Array.Empty<string>(), ["--no-resume"] })
        {
            var save = await FerryCli.RunAsync(["save", "-o", dir.File("out.tar"), .. extra, $"{env.Host}/test/app:1"]);
            output.WriteLine(save.StandardError);
            Assert.True(save.ExitCode == 0, save.StandardError);
            Assert.Equal("precious", await File.ReadAllTextAsync(victim));
            Assert.False(File.Exists(dangling), "a file was created through a dangling link");
            Assert.Equal(kind, KindOf(planted));
            Assert.Equal("regular", KindOf(dir.File("out.tar")));
            var warnings = save.StandardError.Split('\n').Where(l => l.Contains(planted, StringComparison.Ordinal)).ToList();
            Assert.True(warnings.Count == 1, save.StandardError);
            Assert.Contains("left alone", warnings[0], StringComparison.Ordinal);
            (await FerryCli.RunAsync("verify", dir.File("out.tar"))).EnsureSuccess("ferry verify");
            File.Delete(dir.File("out.tar"));
        }
    }

    [Theory]
    [InlineData("symlink")]
    [InlineData("directory")]
    public async Task SaveDirectoryLayout_FromACacheWithAPlantedEntry_NeverLinksItIn(string kind)
    {
        using var dir = new TempDirectory("ferry-planted-cache");
        using var outside = new TempDirectory("ferry-victim");
        var cache = dir.File("cache");
        (await FerryCli.RunAsync("save", "--cache", cache, "-o", dir.File("first.tar"), $"{env.Host}/test/app:1")).EnsureSuccess("ferry save to fill the cache");
        var entry = Directory.EnumerateFiles(Path.Combine(cache, "blobs", "sha256")).OrderByDescending(f => new FileInfo(f).Length).First();
        var victim = outside.File("precious.bin");
        await File.WriteAllTextAsync(victim, "precious");
        File.Delete(entry);
        await PlantAsync(entry, kind, victim, outside.File("unused"));

        var save = await FerryCli.RunAsync("save", "--cache", cache, "--format", "dir", "-o", dir.File("layout"), $"{env.Host}/test/app:1");
        output.WriteLine(save.StandardError);
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir.File("layout"), "*", SearchOption.AllDirectories), p => new FileInfo(p).LinkTarget is not null);
        Assert.Contains(save.StandardError.Split('\n'), l => l.Contains(entry, StringComparison.Ordinal) && l.Contains("left alone", StringComparison.Ordinal));
        (await FerryCli.RunAsync("verify", dir.File("layout"))).EnsureSuccess("ferry verify of the layout");
        Assert.Equal(kind, KindOf(entry));
    }

    private static async Task PlantAsync(string path, string kind, string victim, string dangling)
    {
        switch (kind)
        {
            case "symlink":
                File.CreateSymbolicLink(path, victim);
                break;
            case "dangling":
                File.CreateSymbolicLink(path, dangling);
                break;
            case "directory":
                Directory.CreateDirectory(path);
                await File.WriteAllTextAsync(Path.Combine(path, "neighbour.txt"), "mine");
                break;
            case "fifo":
                (await ProcessRunner.RunAsync("mkfifo", [path])).EnsureSuccess("mkfifo");
                break;
        }
    }

    private static string KindOf(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is { } target)
        {
            return File.Exists(target) || Directory.Exists(target) ? "symlink" : "dangling";
        }

        if (Directory.Exists(path))
        {
            return "directory";
        }

        return !info.Exists ? "missing" : (File.GetAttributes(path) & FileAttributes.Normal) != 0 || info.UnixFileMode != 0 && !IsFifo(path) ? "regular" : "fifo";
    }

    private static bool IsFifo(string path) => ProcessRunner.RunAsync("test", ["-p", path]).GetAwaiter().GetResult().ExitCode == 0;
}
