using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Ferry.Errors;
using Ferry.Reading;

namespace Ferry.Core.Tests;

/// <summary>
/// Hostile and broken archives (reliability.md §7 cases 10–19), generated here: each is refused with a clear
/// message before anything is pushed, and nothing is ever extracted.
/// </summary>
public sealed class HostileArchiveTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("sha256:../../etc/passwd")]
    [InlineData("sha256:ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("sha256:abc")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    public async Task Case10_MalformedDigestInIndexJson_IsRejected(string digest)
    {
        var path = Tar(("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"u8.ToArray()), ("index.json", Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{digest}}","size":10}]}""")));
        await Assert.ThrowsAsync<InvalidInputException>(() => ImageArchive.OpenAsync(path));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("/etc/passwd")]
    public async Task Case11_ManifestJsonLayerOutsideTheArchive_IsRefused(string layer)
    {
        var path = DockerArchive(layers: [layer], extra: []);
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ImageArchive.OpenAsync(path));
        Assert.Contains("escapes the archive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case12_SymlinkToAnAbsolutePath_IsRefused()
    {
        var path = TarWith(writer => writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "layer.tar") { LinkName = "/etc/shadow" }));
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
        Assert.Contains("points outside the archive", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case12_HardlinkClimbingOut_IsRefused()
    {
        var path = TarWith(writer => writer.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "layer.tar") { LinkName = "../outside" }));
        await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
    }

    [Fact]
    public async Task Case12_SymlinkInsideTheArchive_ResolvesToTheFileItNames()
    {
        var path = TarWith(writer =>
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "a/real.tar") { DataStream = new MemoryStream("payload"u8.ToArray()) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "b/layer.tar") { LinkName = "../a/real.tar" });
        });
        using var archive = await ArchiveFile.OpenAsync(path);
        Assert.Equal("payload", Encoding.UTF8.GetString(await archive.ReadSmallAsync("b/layer.tar", 100)));
    }

    [Fact]
    public async Task Case13_SymlinkCycle_IsRefusedWithoutHanging()
    {
        var path = TarWith(writer =>
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "manifest.json") { LinkName = "a" });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "a") { LinkName = "manifest.json" });
        });
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
        Assert.Contains("link cycle", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case14_OversizedManifestJson_IsRefusedAtTheCap()
    {
        var path = Tar(("manifest.json", Encoding.UTF8.GetBytes("[" + new string(' ', 5 * 1024 * 1024) + "]")));
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ImageArchive.OpenAsync(path));
        Assert.Contains("limit for metadata", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case15_DiffIdCountDifferentFromLayers_IsAClearError()
    {
        var layer = LayerTar("x");
        var path = DockerArchive(layers: ["l1.tar", "l2.tar"], extra: [("l1.tar", layer), ("l2.tar", layer)], diffIds: [Sha(layer)]);
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ImageArchive.OpenAsync(path));
        Assert.Contains("lists 1 diff_ids but manifest.json lists 2 layers", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case16_LayerNotMatchingItsDiffId_IsRefused()
    {
        var layer = LayerTar("x");
        var path = DockerArchive(layers: ["l1.tar"], extra: [("l1.tar", layer)], diffIds: [Sha(LayerTar("something else"))]);
        var ex = await Assert.ThrowsAsync<DigestMismatchException>(() => ImageArchive.OpenAsync(path));
        Assert.Contains("diff_id", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case17_DecompressionBomb_IsStoppedAtTheExpansionCap()
    {
        // zstd expands far beyond gzip's ~1,032x (a gzip stream always fits the cap: a zero-heavy layer is legitimate).
        var bomb = Path.Combine(_dir.Path, "bomb.tar.zst");
        await using (var file = File.Create(bomb))
        await using (var zstd = new ZstdSharp.CompressionStream(file, 19))
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 384; i++)
            {
                zstd.Write(zeros);
            }
        }

        Assert.True(new FileInfo(bomb).Length * ArchiveLimits.Default.MaxExpansion < 128L << 20, "the test bomb is not compressed enough to test the cap");

        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(bomb));
        Assert.Contains("decompression bomb", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case18_JunkAfterTheEndBlocks_IsIgnored()
    {
        var path = Tar(("a.txt", "hello"u8.ToArray()));
        await using (var file = new FileStream(path, FileMode.Append))
        {
            file.Write(RandomNumberGenerator.GetBytes(4 * 1024 * 1024));
        }

        using var archive = await ArchiveFile.OpenAsync(path);
        Assert.Equal(["a.txt"], archive.Names);
    }

    [Fact]
    public async Task Case18_TruncatedMidEntry_IsReportedAsTruncated()
    {
        var path = Tar(("big.bin", RandomNumberGenerator.GetBytes(100_000)));
        await using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(50_000);
        }

        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
        Assert.Contains("truncated", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Case19_LayoutDirectoryWithASymlinkedBlob_IsRefused()
    {
        var layout = Directory.CreateDirectory(Path.Combine(_dir.Path, "layout")).FullName;
        Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256"));
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        File.CreateSymbolicLink(Path.Combine(layout, "blobs", "sha256", new string('a', 64)), "/etc/passwd");
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(layout));
        Assert.Contains("symbolic link", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotATar_IsOneClearError()
    {
        var path = Path.Combine(_dir.Path, "random.bin");
        await File.WriteAllBytesAsync(path, RandomNumberGenerator.GetBytes(10_000));
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
        Assert.Contains("not a tar archive", ex.Message, StringComparison.Ordinal);
    }

    private string Tar(params (string Name, byte[] Data)[] files) => TarWith(writer =>
    {
        foreach (var (name, data) in files)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
    });

    private string TarWith(Action<TarWriter> write)
    {
        var path = Path.Combine(_dir.Path, Guid.NewGuid().ToString("N") + ".tar");
        using var file = File.Create(path);
        using (var writer = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        return path;
    }

    private string DockerArchive(string[] layers, (string Name, byte[] Data)[] extra, string[]? diffIds = null)
    {
        var ids = string.Join(",", (diffIds ?? []).Select(d => $"\"{d}\""));
        var config = Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[" + ids + "]}}");
        var manifest = Encoding.UTF8.GetBytes($$"""[{"Config":"config.json","RepoTags":["hostile/app:1"],"Layers":[{{string.Join(",", layers.Select(l => $"\"{l}\""))}}]}]""");
        return Tar([("manifest.json", manifest), ("config.json", config), .. extra]);
    }

    private static byte[] LayerTar(string content)
    {
        using var buffer = new MemoryStream();
        using (var writer = new TarWriter(buffer, TarEntryFormat.Ustar, leaveOpen: true))
        {
            writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "file.txt") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
        }

        return buffer.ToArray();
    }

    private static string Sha(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
