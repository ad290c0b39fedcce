using System.Text;

namespace Ferry.Archives.Format;

/// <summary>
/// Writes POSIX ustar headers by hand, deterministically: mtime 0, uid/gid 0, empty user/group names.
/// Sizes of 8 GiB and more use GNU base-256 numbers; names that ustar cannot hold (even split into
/// prefix/name) get a GNU <c>././@LongLink</c> record. .NET's <c>TarWriter</c> is not used because its PAX
/// entries embed the process id and it needs seekable data or output to write an entry of known size.
/// </summary>
internal static class TarHeader
{
    public const int BlockSize = 512;

    private const long MaxOctalSize = (8L << 30) - 1; // 11 octal digits: 8 GiB - 1

    private const int FileMode = 0b110_100_100; // 0644

    private const int DirectoryMode = 0b111_101_101; // 0755

    /// <summary>The number of bytes the header(s) of an entry take.</summary>
    /// <param name="name">The entry name.</param>
    /// <returns>512, or more when a GNU long-name record is needed.</returns>
    public static int HeaderLength(string name)
    {
        var bytes = Encoding.UTF8.GetByteCount(name);
        return TrySplit(name, out _, out _) ? BlockSize : BlockSize + BlockSize + Pad(bytes + 1) + bytes + 1;
    }

    /// <summary>The padding needed after <paramref name="size"/> bytes of content.</summary>
    /// <param name="size">The content length.</param>
    /// <returns>0 to 511.</returns>
    public static int Pad(long size) => (int)((BlockSize - (size % BlockSize)) % BlockSize);

    /// <summary>The total length of an entry: header(s), content and padding.</summary>
    /// <param name="name">The entry name.</param>
    /// <param name="size">The content length.</param>
    /// <returns>The bytes the entry occupies in the archive.</returns>
    public static long EntryLength(string name, long size) => HeaderLength(name) + size + Pad(size);

    /// <summary>Builds the header bytes of a regular file or directory.</summary>
    /// <param name="name">The entry name (directories end with '/').</param>
    /// <param name="size">The content length (0 for directories).</param>
    /// <param name="isDirectory">Whether the entry is a directory.</param>
    /// <returns>Exactly <see cref="HeaderLength"/> bytes.</returns>
    public static byte[] Build(string name, long size, bool isDirectory)
    {
        var result = new byte[HeaderLength(name)];
        var span = result.AsSpan();
        if (!TrySplit(name, out var prefix, out var shortName))
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            WriteBlock(span[..BlockSize], "././@LongLink", string.Empty, nameBytes.Length + 1, (byte)'L', gnu: true, mode: 0);
            nameBytes.CopyTo(span[BlockSize..]);
            var headerStart = result.Length - BlockSize;
            var truncated = Encoding.UTF8.GetBytes(name)[..100];
            WriteBlock(span[headerStart..], Encoding.UTF8.GetString(truncated), string.Empty, size, isDirectory ? (byte)'5' : (byte)'0', gnu: true, mode: isDirectory ? DirectoryMode : FileMode);
            return result;
        }

        var needsGnu = size > MaxOctalSize;
        WriteBlock(span, shortName, prefix, size, isDirectory ? (byte)'5' : (byte)'0', needsGnu, isDirectory ? DirectoryMode : FileMode);
        return result;
    }

    /// <summary>The two zero blocks that end an archive.</summary>
    public static int TrailerLength => 2 * BlockSize;

    /// <summary>Zeros for padding a member's data to a block, or (whole) for the end-of-archive blocks.</summary>
    public static ReadOnlyMemory<byte> Zeros { get; } = new byte[2 * BlockSize];

    /// <summary>The zeros that pad <paramref name="size"/> bytes of data to a whole block.</summary>
    public static ReadOnlyMemory<byte> PaddingFor(long size) => Zeros[..Pad(size)];

    /// <summary>Writes one regular-file member held in memory: header, data, padding.</summary>
    public static async Task WriteEntryAsync(Stream output, string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        await output.WriteAsync(Build(name, content.Length, isDirectory: false), cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        await output.WriteAsync(PaddingFor(content.Length), cancellationToken).ConfigureAwait(false);
    }

    private static bool TrySplit(string name, out string prefix, out string shortName)
    {
        prefix = string.Empty;
        shortName = name;
        var length = Encoding.UTF8.GetByteCount(name);
        if (length <= 100)
        {
            return true;
        }

        if (length > 256)
        {
            return false;
        }

        // Split at a '/' so that the prefix fits 155 bytes and the rest 100 bytes.
        for (var i = name.Length - 1; i > 0; i--)
        {
            if (name[i] != '/')
            {
                continue;
            }

            var p = name[..i];
            var n = name[(i + 1)..];
            if (Encoding.UTF8.GetByteCount(p) <= 155 && Encoding.UTF8.GetByteCount(n) is > 0 and <= 100)
            {
                prefix = p;
                shortName = n;
                return true;
            }
        }

        return false;
    }

    private static void WriteBlock(Span<byte> block, string name, string prefix, long size, byte type, bool gnu, int mode)
    {
        block[..BlockSize].Clear();
        Encoding.UTF8.GetBytes(name, block[..100]);
        WriteOctal(block.Slice(100, 8), mode);
        WriteOctal(block.Slice(108, 8), 0);
        WriteOctal(block.Slice(116, 8), 0);
        if (size > MaxOctalSize)
        {
            var field = block.Slice(124, 12);
            field[0] = 0x80;
            for (var i = 11; i >= 1; i--)
            {
                field[i] = (byte)(size & 0xff);
                size >>= 8;
            }
        }
        else
        {
            WriteOctal(block.Slice(124, 12), size);
        }

        WriteOctal(block.Slice(136, 12), 0);
        block[156] = type;
        if (gnu)
        {
            "ustar  \0"u8.CopyTo(block[257..]);
        }
        else
        {
            "ustar\u000000"u8.CopyTo(block[257..]);
            Encoding.UTF8.GetBytes(prefix, block.Slice(345, 155));
        }

        // Checksum: computed with the checksum field as eight spaces; stored as six octal digits, NUL, space.
        block.Slice(148, 8).Fill((byte)' ');
        var sum = 0;
        foreach (var b in block[..BlockSize])
        {
            sum += b;
        }

        var checksum = block.Slice(148, 8);
        WriteOctal(checksum[..7], sum);
        checksum[7] = (byte)' ';
    }

    private static void WriteOctal(Span<byte> field, long value)
    {
        // field.Length - 1 zero-padded octal digits followed by NUL.
        var digits = field.Length - 1;
        for (var i = digits - 1; i >= 0; i--)
        {
            field[i] = (byte)('0' + (value & 7));
            value >>= 3;
        }

        field[digits] = 0;
    }
}
