using Microsoft.Win32.SafeHandles;

namespace Ferry.Archives;

/// <summary>
/// The parts of a split archive (<c>TARGET.000</c>, <c>.001</c>, …), each written under a temporary name and renamed
/// into place only when all are complete; parts left from an earlier, longer split are removed then, so a reader never
/// sees a stale tail. On failure every temporary part is removed and earlier parts stay as they were.
/// </summary>
internal sealed class SplitOutput(string target, long partSize)
{
    private readonly List<AtomicOutput> _parts = [];

    public string Target { get; } = AtomicOutput.Resolve(target);

    public long PartSize { get; } = partSize;

    public IReadOnlyList<string> Committed { get; private set; } = [];

    public static string PartName(string target, int index) => $"{target}.{index:000}";

    /// <summary>Creates part <paramref name="index"/> (parts are created in order) and opens it for writing.</summary>
    public SafeFileHandle Create(int index)
    {
        if (index != _parts.Count)
        {
            throw new InvalidOperationException("parts are created in order");
        }

        var part = AtomicOutput.Prepare(PartName(Target, index));
        _parts.Add(part);
        return File.OpenHandle(part.Temporary, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
    }

    public void Commit()
    {
        foreach (var part in _parts)
        {
            part.CommitFile();
        }

        for (var stale = _parts.Count; File.Exists(PartName(Target, stale)); stale++)
        {
            File.Delete(PartName(Target, stale));
        }

        Committed = [.. _parts.Select(p => p.Target)];
    }

    public void Abandon()
    {
        foreach (var part in _parts)
        {
            part.Abandon();
        }
    }
}

/// <summary>A forward-only stream into a <see cref="SplitOutput"/>: a new part begins whenever one is full.</summary>
internal sealed class SplitWriteStream(SplitOutput parts) : Content.WriteOnlyStream
{
    private FileStream? _current;
    private long _inPart;
    private int _count;

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (buffer.Length > 0)
        {
            if (_current is null || _inPart == parts.PartSize)
            {
                if (_current is not null)
                {
                    await _current.DisposeAsync().ConfigureAwait(false);
                }

                _current = new FileStream(parts.Create(_count++), FileAccess.Write, 1 << 20);
                _inPart = 0;
            }

            var n = (int)Math.Min(buffer.Length, parts.PartSize - _inPart);
            await _current.WriteAsync(buffer[..n], cancellationToken).ConfigureAwait(false);
            _inPart += n;
            buffer = buffer[n..];
        }
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => _current?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    public override async ValueTask DisposeAsync()
    {
        // An empty archive is still one (empty) part.
        _current ??= new FileStream(parts.Create(_count++), FileAccess.Write, 1);
        await _current.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
        }

        base.Dispose(disposing);
    }
}
