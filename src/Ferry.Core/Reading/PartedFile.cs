using System.Text.RegularExpressions;
using Ferry.Errors;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Reading;

/// <summary>
/// One archive stored as one file or as split parts (<c>bundle.tar.000</c>, <c>.001</c>, …: byte ranges of the one
/// archive, so <c>cat</c> restores it), read with positional reads across the parts — no part is copied.
/// </summary>
internal sealed partial class PartedFile : IDisposable
{
    private readonly SafeFileHandle[] _handles;
    private readonly long[] _starts;

    private PartedFile(IReadOnlyList<string> paths)
    {
        _handles = new SafeFileHandle[paths.Count];
        _starts = new long[paths.Count];
        try
        {
            long start = 0;
            for (var i = 0; i < paths.Count; i++)
            {
                _handles[i] = File.OpenHandle(paths[i], FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
                _starts[i] = start;
                start += RandomAccess.GetLength(_handles[i]);
            }

            Length = start;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The archive's length: all parts together.</summary>
    public long Length { get; }

    /// <summary>Opens one file.</summary>
    public static PartedFile Open(string path) => new([path]);

    /// <summary>Opens split parts, in order.</summary>
    public static PartedFile Open(IReadOnlyList<string> parts) => new(parts);

    /// <summary>
    /// The parts of a split archive when <paramref name="path"/> names one (<c>NAME.000</c>, or any <c>NAME.NNN</c>):
    /// every part from <c>.000</c> on, in order; <see langword="null"/> for an ordinary file. A gap, or a part other
    /// than the last that is shorter than the first, is a clear error naming the part.
    /// </summary>
    public static IReadOnlyList<string>? FindParts(string path)
    {
        var match = PartName().Match(path);
        if (!match.Success)
        {
            return null;
        }

        var stem = match.Groups[1].Value;
        var width = match.Groups[2].Value.Length;
        string Name(int i) => stem + "." + i.ToString(new string('0', width), System.Globalization.CultureInfo.InvariantCulture);
        if (!File.Exists(Name(0)))
        {
            return null; // a file whose name merely ends in digits
        }

        var parts = new List<string>();
        for (var i = 0; File.Exists(Name(i)); i++)
        {
            parts.Add(Name(i));
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var later = Directory.EnumerateFiles(directory, Path.GetFileName(stem) + ".*")
            .Select(f => PartName().Match(f))
            .Where(m => m.Success && Path.GetFileName(m.Groups[1].Value) == Path.GetFileName(stem) && m.Groups[2].Value.Length == width)
            .Select(m => int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Where(i => i > parts.Count)
            .Order()
            .FirstOrDefault(-1);
        if (later >= 0)
        {
            throw new InvalidInputException($"{Name(parts.Count)} is missing: the split archive has parts up to {Name(later)}");
        }

        var size = new FileInfo(parts[0]).Length;
        var shortPart = parts.SkipLast(1).FirstOrDefault(p => new FileInfo(p).Length != size);
        if (shortPart is not null)
        {
            throw new InvalidInputException($"{shortPart} is {new FileInfo(shortPart).Length} bytes, but every part before the last has {size}: it is damaged or truncated");
        }

        return parts;
    }

    /// <summary>Reads at <paramref name="offset"/> of the whole archive, as much as one part holds there.</summary>
    public int Read(Span<byte> buffer, long offset)
    {
        var (i, local, room) = Locate(offset);
        return i < 0 ? 0 : RandomAccess.Read(_handles[i], buffer[..(int)Math.Min(buffer.Length, room)], local);
    }

    /// <summary>Reads at <paramref name="offset"/> of the whole archive, as much as one part holds there.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, long offset, CancellationToken cancellationToken)
    {
        var (i, local, room) = Locate(offset);
        return i < 0 ? ValueTask.FromResult(0) : RandomAccess.ReadAsync(_handles[i], buffer[..(int)Math.Min(buffer.Length, room)], local, cancellationToken);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var handle in _handles)
        {
            handle?.Dispose();
        }
    }

    private (int Part, long Local, long Room) Locate(long offset)
    {
        if (offset >= Length)
        {
            return (-1, 0, 0);
        }

        var i = Array.BinarySearch(_starts, offset);
        if (i < 0)
        {
            i = ~i - 1;
        }

        // Empty parts share a start with the next: step to the one that holds the byte.
        while (i < _starts.Length - 1 && _starts[i + 1] <= offset)
        {
            i++;
        }

        var end = i + 1 < _starts.Length ? _starts[i + 1] : Length;
        return (i, offset - _starts[i], end - offset);
    }

    [GeneratedRegex(@"^(.+)\.(\d{3,})$")]
    private static partial Regex PartName();
}
