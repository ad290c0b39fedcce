using Ferry.Archives;
using Ferry.Errors;
using Ferry.Reading;

namespace Ferry.Core.Tests;

/// <summary>Split parts as one byte range: writes and reads that straddle part ends, and how a damaged set of parts is named.</summary>
public sealed class SplitFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ferry-split-test-").FullName;

    [Fact]
    public async Task WritesAndReadsAcrossPartEnds_SeeOneContiguousRange()
    {
        var data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
        var paths = Enumerable.Range(0, 4).Select(i => Path.Combine(_dir, $"a.tar.{i:000}")).ToList();
        var handles = paths.Select(p => File.OpenHandle(p, FileMode.CreateNew, FileAccess.ReadWrite)).ToList();
        var file = PositionalFile.Split(handles, 300);
        file.SetLength(data.Length);
        await file.WriteAsync(data.AsMemory(250, 500), 250, CancellationToken.None); // spans parts 0, 1 and 2
        await file.WriteAsync(data.AsMemory(0, 250), 0, CancellationToken.None);
        await file.WriteAsync(data.AsMemory(750), 750, CancellationToken.None);
        handles.ForEach(h => h.Dispose());
        Assert.Equal([300L, 300, 300, 100], paths.Select(p => new FileInfo(p).Length));

        Assert.Equal(paths, PartedFile.FindParts(paths[2]));
        using var parted = PartedFile.Open(paths);
        Assert.Equal(data.Length, parted.Length);
        var back = new byte[data.Length];
        var done = 0;
        while (done < back.Length)
        {
            done += await parted.ReadAsync(back.AsMemory(done), done, CancellationToken.None);
        }

        Assert.Equal(data, back);
    }

    [Fact]
    public void AGapOrAShortMiddlePart_IsNamed_AndDigitsAloneAreNoSplit()
    {
        foreach (var (name, size) in new[] { ("b.000", 10), ("b.001", 4), ("b.002", 3) })
        {
            File.WriteAllBytes(Path.Combine(_dir, name), new byte[size]);
        }

        Assert.Contains("b.001 is 4 bytes", Assert.Throws<InvalidInputException>(() => PartedFile.FindParts(Path.Combine(_dir, "b.000"))).Message, StringComparison.Ordinal);
        File.Delete(Path.Combine(_dir, "b.001"));
        Assert.Contains("b.001 is missing", Assert.Throws<InvalidInputException>(() => PartedFile.FindParts(Path.Combine(_dir, "b.000"))).Message, StringComparison.Ordinal);

        File.WriteAllBytes(Path.Combine(_dir, "release.2024.100"), [1]);
        Assert.Null(PartedFile.FindParts(Path.Combine(_dir, "release.2024.100")));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
