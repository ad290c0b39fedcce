using System.Formats.Tar;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

[Collection(RealComponentsCollection.Name)]
public sealed class SaveArchiveTests(RealComponentsFixture env)
{
    [Fact]
    public async Task Save_SameInputTwice_IsByteIdentical()
    {
        using var dir = new TempDirectory();
        string[] images = [$"{env.Host}/test/app:1", $"{env.Host}/test/oci:1", $"{env.Host}/test/multi:1"];
        (await FerryCli.RunAsync(["save", "-o", dir.File("a.tar"), .. images])).EnsureSuccess("first save");
        (await FerryCli.RunAsync(["save", "-o", dir.File("b.tar"), .. images])).EnsureSuccess("second save");
        Assert.Equal(await File.ReadAllBytesAsync(dir.File("a.tar")), await File.ReadAllBytesAsync(dir.File("b.tar")));
    }

    [Fact]
    public async Task Save_ImagesSharingABaseLayer_StoreItOnceWithDeterministicUstarHeaders()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("shared.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/base:1", $"{env.Host}/test/app:1", $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");

        var entries = new List<TarEntry>();
        await using (var stream = File.OpenRead(archive))
        {
            using var reader = new TarReader(stream);
            while (reader.GetNextEntry() is { } entry)
            {
                entries.Add(entry);
            }
        }

        Assert.Single(entries, e => e.Name == "blobs/sha256/" + env.BaseLayerDigest[7..]);
        Assert.All(entries, e =>
        {
            Assert.Equal(TarEntryFormat.Ustar, e.Format);
            Assert.Equal(DateTimeOffset.UnixEpoch, e.ModificationTime);
            Assert.Equal(0, e.Uid);
            Assert.True(e.EntryType is TarEntryType.RegularFile or TarEntryType.Directory);
        });
        var names = entries.Select(e => e.Name).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal("oci-layout", names[^1]);

        var manifest = RealComponentsFixture.ReadJsonEntry(archive, "manifest.json").AsArray();
        Assert.Equal(3, manifest.Count);
        Assert.Equal($"{env.Host}/test/app:1", (string?)manifest[1]!["RepoTags"]![0]);
        var index = RealComponentsFixture.ReadJsonEntry(archive, "index.json")["manifests"]!.AsArray();
        Assert.Equal(env.Digests["test/app:1"], (string?)index[1]!["digest"]);
        Assert.Equal($"{env.Host}/test/app:1", (string?)index[1]!["annotations"]!["io.containerd.image.name"]);
        Assert.Equal($"{env.Host}/test/app:1", (string?)index[1]!["annotations"]!["org.opencontainers.image.ref.name"]);
    }

    [Fact]
    public async Task Save_OverAnExistingFileThatFails_LeavesTheOldFileAndNoTemporary()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("keep.tar");
        await File.WriteAllTextAsync(archive, "previous");
        var result = await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/base:1", $"{env.Host}/test/nope:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("previous", await File.ReadAllTextAsync(archive));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task Save_CorruptedLayerInTheRegistry_FailsWithDigestMismatchAndWritesNothing()
    {
        // A layer that only this test uses; its stored bytes are flipped on the registry's disk.
        using var http = new HttpClient();
        var layer = TestImages.RandomLayer("corrupt-me", 100_000, docker: true);
        var image = TestImages.Image([layer], docker: true, label: "corrupt");
        await TestImages.PushImageAsync(http, env.Host, "test/corrupt", image, "1");
        var path = Directory.GetFiles(env.Registry.DataDirectory, "data", SearchOption.AllDirectories)
            .Single(f => f.Contains(layer.Digest[7..], StringComparison.Ordinal));
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(path, bytes);

        using var dir = new TempDirectory();
        var result = await FerryCli.RunAsync("save", "-o", dir.File("c.tar"), $"{env.Host}/test/corrupt:1");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("digest mismatch", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(layer.Digest, result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
