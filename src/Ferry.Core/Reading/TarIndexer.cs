using System.Text;
using Ferry.Errors;

namespace Ferry.Reading;

/// <summary>One member of a tar file: its name, where its data starts, its size, and its link target.</summary>
internal sealed record TarMember(string Name, char Type, long Offset, long Size, string? LinkName);

/// <summary>
/// Lists the members of a seekable tar file with the byte offset of each member's data, reading headers only
/// (data is skipped by seeking). Understands ustar, GNU long names/links (<c>L</c>/<c>K</c>), PAX extended
/// headers (<c>path</c>, <c>linkpath</c>, <c>size</c>) and base-256 sizes — what docker, podman, skopeo
/// (Go's archive/tar) and Ferry write. System.Formats.Tar does not expose data offsets, hence this.
/// </summary>
internal static class TarIndexer
{
    private const int Block = 512;
    private const int MaxExtendedHeader = 1024 * 1024;

    public static async Task<List<TarMember>> IndexAsync(PartedFile file, string displayPath, int maxMembers, CancellationToken cancellationToken) =>
        (await IndexWithEndAsync(file.ReadAsync, file.Length, displayPath, maxMembers, cancellationToken).ConfigureAwait(false)).Members;

    /// <summary>Indexes the members of a tar file and returns where the archive ends (after its end-of-archive blocks).</summary>
    public static Task<(List<TarMember> Members, long End)> IndexWithEndAsync(FileStream stream, string displayPath, int maxMembers, CancellationToken cancellationToken) =>
        IndexWithEndAsync((buffer, offset, token) => RandomAccess.ReadAsync(stream.SafeFileHandle, buffer, offset, token), stream.Length, displayPath, maxMembers, cancellationToken);

    /// <summary>Indexes the members and returns where the archive ends (after its end-of-archive blocks).</summary>
    private static async Task<(List<TarMember> Members, long End)> IndexWithEndAsync(Func<Memory<byte>, long, CancellationToken, ValueTask<int>> read, long length, string displayPath, int maxMembers, CancellationToken cancellationToken)
    {
        var members = new List<TarMember>();
        var header = new byte[Block];
        string? longName = null;
        string? longLink = null;
        Dictionary<string, string>? pax = null;
        long position = 0;
        while (true)
        {
            if (position + Block > length)
            {
                if (position == length)
                {
                    return (members, position); // no end-of-archive blocks: accepted, as tar does
                }

                throw Truncated(displayPath, "a header");
            }

            await ReadAtAsync(read, header, position, cancellationToken).ConfigureAwait(false);
            position += Block;
            if (header.All(b => b == 0))
            {
                return (members, Math.Min(position + Block, length)); // the second zero block
            }

            if (!ChecksumMatches(header))
            {
                throw new InvalidInputException($"{displayPath} is not a tar archive, or is corrupt at byte {position - Block} (header checksum)");
            }

            var type = (char)(header[156] == 0 ? (byte)'0' : header[156]);
            var size = ParseSize(header.AsSpan(124, 12), displayPath);
            if (pax is not null && pax.TryGetValue("size", out var paxSize))
            {
                size = long.TryParse(paxSize, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
                    ? parsed
                    : throw new InvalidInputException($"{displayPath}: a PAX header declares the size \"{paxSize}\"; refused");
            }

            if (size < 0 || size > length - position)
            {
                throw Truncated(displayPath, "a member's data");
            }

            var dataOffset = position;
            position += (size + Block - 1) / Block * Block;
            switch (type)
            {
                case 'L' or 'K' or 'x' or 'g':
                    if (size > MaxExtendedHeader)
                    {
                        throw new InvalidInputException($"{displayPath}: an extended tar header of {size} bytes; refused");
                    }

                    var data = new byte[size];
                    await ReadAtAsync(read, data, dataOffset, cancellationToken).ConfigureAwait(false);
                    if (type == 'L')
                    {
                        longName = CString(data);
                    }
                    else if (type == 'K')
                    {
                        longLink = CString(data);
                    }
                    else if (type == 'x')
                    {
                        pax = ParsePax(data, displayPath);
                    }

                    continue;
            }

            var name = longName ?? (pax?.GetValueOrDefault("path")) ?? UstarName(header);
            var link = longLink ?? (pax?.GetValueOrDefault("linkpath")) ?? CString(header.AsSpan(157, 100));
            longName = null;
            longLink = null;
            pax = null;
            if (members.Count >= maxMembers)
            {
                throw new InvalidInputException($"{displayPath} has more than {maxMembers} members; refused");
            }

            members.Add(new TarMember(name, type, dataOffset, size, link.Length == 0 ? null : link));
        }
    }

    private static InvalidInputException Truncated(string path, string what) => new($"{path} is truncated (it ends inside {what})");

    private static async Task ReadAtAsync(Func<Memory<byte>, long, CancellationToken, ValueTask<int>> read, byte[] buffer, long offset, CancellationToken cancellationToken)
    {
        var done = 0;
        while (done < buffer.Length)
        {
            var n = await read(buffer.AsMemory(done), offset + done, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException();
            }

            done += n;
        }
    }

    private static bool ChecksumMatches(byte[] header)
    {
        long sum = 0;
        for (var i = 0; i < Block; i++)
        {
            sum += i is >= 148 and < 156 ? ' ' : header[i];
        }

        var stored = CString(header.AsSpan(148, 8)).Trim(' ', '\0');
        try
        {
            return stored.Length > 0 && Convert.ToInt64(stored, 8) == sum;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static long ParseSize(ReadOnlySpan<byte> field, string path)
    {
        if ((field[0] & 0x80) != 0)
        {
            // Base-256: a size beyond 2^63 (or negative) is no real member.
            long value = field[0] & 0x3f;
            for (var i = 1; i < field.Length; i++)
            {
                if (value > (long.MaxValue >> 8) || (field[0] & 0x40) != 0)
                {
                    throw new InvalidInputException($"{path}: a tar header declares an impossible size; refused");
                }

                value = (value << 8) | field[i];
            }

            return value;
        }

        var text = CString(field).Trim(' ', '\0');
        try
        {
            return text.Length == 0 ? 0 : Convert.ToInt64(text, 8);
        }
        catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
        {
            throw new InvalidInputException($"{path}: a tar header has a malformed size");
        }
    }

    private static string UstarName(byte[] header)
    {
        var name = CString(header.AsSpan(0, 100));
        var isUstar = header.AsSpan(257, 5).SequenceEqual("ustar"u8);
        var prefix = isUstar ? CString(header.AsSpan(345, 155)) : string.Empty;
        return prefix.Length > 0 ? prefix + "/" + name : name;
    }

    private static string CString(ReadOnlySpan<byte> bytes)
    {
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    private static Dictionary<string, string> ParsePax(byte[] data, string path)
    {
        // Records: "<length> <key>=<value>\n", length counting the whole record.
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < data.Length && data[i] != 0)
        {
            var space = Array.IndexOf(data, (byte)' ', i);
            if (space < 0 || !int.TryParse(Encoding.ASCII.GetString(data, i, space - i), out var recordLength) || recordLength <= 0 || i + recordLength > data.Length)
            {
                throw new InvalidInputException($"{path}: a PAX header is malformed");
            }

            var record = Encoding.UTF8.GetString(data, space + 1, i + recordLength - space - 2);
            var equals = record.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                result[record[..equals]] = record[(equals + 1)..];
            }

            i += recordLength;
        }

        return result;
    }
}
