using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Ferry.Errors;
using Ferry.Inspecting;
using Ferry.Reading;

namespace Ferry.Core.Tests;

/// <summary>
/// verify and load read archives with one reader, so they accept and refuse the same archives — including the cases
/// where System.Formats.Tar alone would differ (a stale header checksum, a NUL in a PAX path).
/// </summary>
public sealed class ReaderAgreementTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ferry-agree-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Spoilers => ["none", "stale header checksum", "NUL in a PAX path", "name climbing out", "truncated", "flipped blob byte"];

    [Theory]
    [MemberData(nameof(Spoilers))]
    public async Task VerifyAndLoad_AgreeOnEveryArchive(string spoiler)
    {
        var path = Layout(spoiler);
        var verified = await ArchiveVerifier.VerifyAsync(path);
        FerryException? refused = null;
        try
        {
            using var archive = await ImageArchive.OpenAsync(path);
            await archive.VerifyBlobsAsync(archive.Images.Select(i => i.Top));
            foreach (var image in archive.Images)
            {
                await archive.VerifyBlobsAsync(await archive.WalkAsync(image.Top));
            }
        }
        catch (FerryException ex)
        {
            refused = ex;
        }

        Assert.Equal(spoiler == "none", verified.IsValid);
        Assert.Equal(spoiler == "none", refused is null);
        if (!verified.IsValid)
        {
            Assert.Single(verified.Problems); // one fault, one problem
        }
    }

    /// <summary>A one-image OCI layout tar, spoiled one way.</summary>
    private string Layout(string spoiler)
    {
        var layer = Encoding.UTF8.GetBytes(new string('x', 3000));
        var config = Encoding.UTF8.GetBytes($$"""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["{{Sha(layer)}}"]} }""");
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Sha(config)}}","size":{{config.Length}}},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"{{Sha(layer)}}","size":{{layer.Length}} } ] }""");
        var index = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{Sha(manifest)}}","size":{{manifest.Length}},"annotations":{"io.containerd.image.name":"example.com/a/b:1"} } ] }""");
        var stream = new MemoryStream();
        using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            void Add(string name, byte[] data, Dictionary<string, string>? pax = null) =>
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name, pax ?? []) { DataStream = new MemoryStream(data) });
            Add("oci-layout", """{"imageLayoutVersion":"1.0.0"}"""u8.ToArray());
            Add("index.json", index);
            Add($"blobs/sha256/{Sha(manifest)[7..]}", manifest);
            Add($"blobs/sha256/{Sha(config)[7..]}", config);
            Add($"blobs/sha256/{Sha(layer)[7..]}", layer);
            if (spoiler == "name climbing out")
            {
                Add("../outside", [1, 2, 3]);
            }
        }

        if (spoiler == "NUL in a PAX path")
        {
            // Written by hand: TarWriter takes the path from the entry's name. A PAX record "path=blobs/a<NUL>b", then the member.
            var record = Encoding.UTF8.GetBytes("path=blobs/a\0b\n");
            var length = record.Length + 3;
            var pax = Encoding.UTF8.GetBytes($"{length} ").Concat(record).ToArray();
            stream.Position = stream.Length - 1024; // over the end-of-archive blocks
            stream.Write(RawHeader("PaxHeaders/extra", pax.Length, (byte)'x'));
            stream.Write(Padded(pax));
            stream.Write(RawHeader("extra", 3, (byte)'0'));
            stream.Write(Padded([1, 2, 3]));
            stream.Write(new byte[1024]);
        }

        var bytes = stream.ToArray();
        if (spoiler == "stale header checksum")
        {
            var at = IndexOf(bytes, "index.json"u8.ToArray());
            bytes[at] = (byte)'j'; // the header's name changes, its checksum does not
        }
        else if (spoiler == "truncated")
        {
            bytes = bytes[..(bytes.Length / 2)];
        }
        else if (spoiler == "flipped blob byte")
        {
            bytes[IndexOf(bytes, "xxxxxxxx"u8.ToArray()) + 100] = (byte)'y';
        }

        var path = Path.Combine(_dir, spoiler.Replace(' ', '-') + ".tar");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] RawHeader(string name, long size, byte type)
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes(name).CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 108);
        Encoding.ASCII.GetBytes("0000000\0").CopyTo(header, 116);
        Encoding.ASCII.GetBytes(Convert.ToString(size, 8).PadLeft(11, '0') + "\0").CopyTo(header, 124);
        Encoding.ASCII.GetBytes("00000000000\0").CopyTo(header, 136);
        header[156] = type;
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        var sum = header.Sum(b => (long)b);
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        return header;
    }

    private static byte[] Padded(byte[] data) => [.. data, .. new byte[(512 - (data.Length % 512)) % 512]];

    private static int IndexOf(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle);

    private static string Sha(byte[] data) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(data));
}
