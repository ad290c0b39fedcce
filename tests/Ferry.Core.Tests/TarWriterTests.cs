using System.Formats.Tar;
using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Content;
using Ferry.Oci;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.Core.Tests;

public sealed class TarWriterTests
{
    [Fact]
    public void Build_OrdinaryEntry_IsAUstarHeaderThatTarReaderAccepts()
    {
        var header = TarHeader.Build("blobs/sha256/" + new string('a', 64), 1234, isDirectory: false);
        Assert.Equal(512, header.Length);
        using var stream = new MemoryStream([.. header, .. new byte[1234 + TarHeader.Pad(1234)], .. new byte[1024]]);
        using var reader = new TarReader(stream);
        var entry = reader.GetNextEntry()!;
        Assert.Equal(TarEntryFormat.Ustar, entry.Format);
        Assert.Equal(1234, entry.Length);
        Assert.Equal(DateTimeOffset.UnixEpoch, entry.ModificationTime);
        Assert.Equal(0, entry.Uid);
        Assert.Equal((UnixFileMode)0b110_100_100, entry.Mode);
    }

    [Fact]
    public void Build_SizeOf8GiBOrMore_UsesGnuBase256()
    {
        var size = (8L << 30) + 5;
        var header = TarHeader.Build("big", size, isDirectory: false);
        Assert.Equal(0x80, header[124]);
        Assert.Equal("ustar  \0"u8.ToArray(), header[257..265]);
        using var stream = new ForwardOnlyStream(new MemoryStream(header));
        using var reader = new TarReader(stream);
        var entry = reader.GetNextEntry(copyData: false)!;
        Assert.Equal(size, entry.Length);
    }

    [Fact]
    public void Build_LongName_SplitsIntoPrefixOrUsesLongLink()
    {
        var sha512 = "blobs/sha512/" + new string('b', 128);
        var header = TarHeader.Build(sha512, 3, isDirectory: false);
        using var stream = new MemoryStream([.. header, .. new byte[512], .. new byte[1024]]);
        using var reader = new TarReader(stream);
        Assert.Equal(sha512, reader.GetNextEntry()!.Name);

        var huge = new string('c', 300);
        var longHeader = TarHeader.Build(huge, 0, isDirectory: false);
        Assert.Equal(TarHeader.HeaderLength(huge), longHeader.Length);
        using var longStream = new MemoryStream([.. longHeader, .. new byte[1024]]);
        using var longReader = new TarReader(longStream);
        Assert.Equal(huge, longReader.GetNextEntry()!.Name);
    }

    [Fact]
    public async Task StreamAndFileWriters_SameLayout_ProduceIdenticalBytesMatchingThePlan()
    {
        var layer = new byte[70_000];
        new Random(1).NextBytes(layer);
        var layerDescriptor = new Descriptor("l", Digest.Sha256Of(layer), layer.Length);
        var config = "{\"rootfs\":{}}"u8.ToArray();
        var source = ImageReference.Parse("example.com/x:1");
        var layout = new ImageLayout(
            [new TransferBlob(new Descriptor("c", Digest.Sha256Of(config), config.Length), config, null), new TransferBlob(layerDescriptor, null, source)],
            "{\"index\":1}"u8.ToArray(),
            "[]"u8.ToArray());
        var context = new LayoutWriteContext((blob, _) => Task.FromResult<Stream>(new MemoryStream(layer)), 4);

        var plan = TarLayoutPlan.Create(layout);
        using var streamed = new MemoryStream();
        await TarStreamWriter.WriteAsync(plan, streamed, context, CancellationToken.None);

        var path = Path.GetTempFileName();
        try
        {
            using (var handle = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite))
            {
                await TarFileWriter.WriteAsync(plan, handle, context, CancellationToken.None);
            }

            var file = await File.ReadAllBytesAsync(path);
            Assert.Equal(streamed.ToArray(), file);
            Assert.Equal(plan.Length, file.Length);

            using var reader = new TarReader(new MemoryStream(file));
            var names = new List<string>();
            while (reader.GetNextEntry() is { } entry)
            {
                names.Add(entry.Name);
                if (entry.Name == layerDescriptor.Digest.LayoutPath)
                {
                    using var copy = new MemoryStream();
                    await entry.DataStream!.CopyToAsync(copy);
                    Assert.Equal(layer, copy.ToArray());
                }
            }

            Assert.Equal(["blobs/", "blobs/sha256/", .. layout.Blobs.Select(b => b.Path).Order(StringComparer.Ordinal), "index.json", "manifest.json", "oci-layout"], names);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

