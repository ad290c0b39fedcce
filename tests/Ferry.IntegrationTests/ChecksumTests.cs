using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// `--checksums` (issue #16's checksum file): OUTPUT.sha256 beside a tar or a layout directory, checked by the real
/// `sha256sum -c`, which also catches a flipped byte; refused for a stream.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ChecksumTests(RealComponentsFixture env)
{
    [Fact]
    public async Task SaveWithChecksums_WritesAFileSha256sumChecks_AndCatchesAFlippedByte()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("bundle.tar");
        var save = await FerryCli.RunAsync("save", "--checksums", "-o", archive, $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1");
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.Contains("sha256sum -c bundle.tar.sha256", save.StandardError, StringComparison.Ordinal);
        (await Sha256sumAsync(dir.Path, "bundle.tar.sha256")).EnsureSuccess("sha256sum -c");

        await using (var file = new FileStream(archive, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = file.Length / 2;
            var b = file.ReadByte();
            file.Position--;
            file.WriteByte((byte)(b ^ 0xFF));
        }

        Assert.NotEqual(0, (await Sha256sumAsync(dir.Path, "bundle.tar.sha256")).ExitCode);
    }

    [Fact]
    public async Task DirectoryOutputAndMerge_GetChecksumsToo_AStreamIsRefused()
    {
        using var dir = new TempDirectory();
        var layout = dir.File("layout");
        (await FerryCli.RunAsync("save", "--checksums", "--format", "dir", "-o", layout, $"{env.Host}/test/app:1")).EnsureSuccess("save --format dir");
        var listed = await File.ReadAllLinesAsync(layout + ".sha256");
        Assert.Contains(listed, l => l.EndsWith("  layout/index.json", StringComparison.Ordinal));
        (await Sha256sumAsync(dir.Path, "layout.sha256")).EnsureSuccess("sha256sum -c of a directory's files");

        var a = dir.File("a.tar");
        (await FerryCli.RunAsync("save", "-o", a, $"{env.Host}/test/oci:1")).EnsureSuccess("save a");
        (await FerryCli.RunAsync("merge", "--checksums", a, layout, "-o", dir.File("m.tar"))).EnsureSuccess("merge --checksums");
        (await Sha256sumAsync(dir.Path, "m.tar.sha256")).EnsureSuccess("sha256sum -c of the merge");

        var stream = await FerryCli.RunWithStdoutAsync(dir.File("out.tar"), "save", "--checksums", "-o", "-", $"{env.Host}/test/app:1");
        Assert.Equal(1, stream.ExitCode);
        Assert.Contains("--checksums", Assert.Single(stream.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    private static Task<ProcessResult> Sha256sumAsync(string directory, string file) =>
        ProcessRunner.RunAsync("/bin/sh", ["-c", $"cd '{directory}' && sha256sum -c '{file}'"], TimeSpan.FromMinutes(1));
}
