using System.Buffers;
using System.Globalization;
using System.Text;
using Ferry.Archives;
using Ferry.Content;
using Ferry.References;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Archives;

/// <summary>
/// What lets a killed save continue where it stopped. Beside the output <c>NAME</c> a tar save writes its data to
/// <c>.NAME.ferry-resume</c> (a fixed name, so a later run finds it) and keeps <c>.NAME.ferry-resume.journal</c>: the
/// plan (every fetched blob's digest, offset and size) and, as the save goes, each blob done and how many bytes of a
/// blob in progress are written. A rerun with the same plan reuses the file in place; a changed plan (other images,
/// tags moved) copies what still matches into a new one. Nothing the journal says counts until it is checked: a blob
/// "done" is hashed again before it is kept, a partial one continues with <c>Range</c> behind its re-read prefix and
/// is verified whole. The journal is held under an exclusive lock (a second run on the same output writes without
/// resume) and both files go when the archive is committed.
/// </summary>
internal sealed class ResumeJournal : IDisposable
{
    private const string Magic = "ferry-resume 1";
    private const string DataSuffix = ".ferry-resume";
    private const string JournalSuffix = ".ferry-resume.journal";
    private readonly FileStream _journal;
    private readonly Dictionary<Digest, long> _earlier;
    private readonly Dictionary<Digest, long> _recorded = [];
    private readonly Lock _gate = new();
    private bool _closed;

    private ResumeJournal(FileStream journal, string journalPath, string dataPath, SafeFileHandle data, Dictionary<Digest, long> earlier, long earlierBytes)
    {
        _journal = journal;
        JournalPath = journalPath;
        DataPath = dataPath;
        Data = data;
        _earlier = earlier;
        EarlierBytes = earlierBytes;
    }

    /// <summary>The data file, the archive's tar as it is being written.</summary>
    public string DataPath { get; }

    /// <summary>The data file, open for positional reads and writes.</summary>
    public SafeFileHandle Data { get; }

    /// <summary>The blob bytes an earlier run left that this plan can use (not yet checked).</summary>
    public long EarlierBytes { get; }

    /// <summary>The blob bytes this run has in place so far (reused and written).</summary>
    public long RecordedBytes
    {
        get
        {
            lock (_gate)
            {
                return _recorded.Values.Sum();
            }
        }
    }

    /// <summary>The names the resume files of <paramref name="target"/> have.</summary>
    public static (string Data, string Journal) PathsOf(string target)
    {
        var directory = Path.GetDirectoryName(target)!;
        var name = Path.GetFileName(target);
        return (Path.Combine(directory, $".{name}{DataSuffix}"), Path.Combine(directory, $".{name}{JournalSuffix}"));
    }

    /// <summary>
    /// Opens the resume state of <paramref name="target"/> for <paramref name="plan"/>, taking over what an earlier run
    /// left; <see langword="null"/> when another process holds it (that run writes without resume).
    /// </summary>
    /// <exception cref="Content.UnsafePathException">Something other than a regular file of this user's is at one of the names (left alone).</exception>
    public static ResumeJournal? Open(string target, TarLayoutPlan plan)
    {
        var (dataPath, journalPath) = PathsOf(target);
        var newData = dataPath + ".new";

        // Names a neighbour could have planted (a link, a directory, a FIFO) are refused before anything is created.
        foreach (var name in new[] { dataPath, journalPath, newData })
        {
            if (PosixFiles.KindOf(name) is not (FileKind.Missing or FileKind.Regular) and var kind)
            {
                throw new UnsafePathException(name, kind);
            }
        }

        var journalHandle = PosixFiles.OpenRegular(journalPath, create: true);
        if (!PosixFiles.TryLock(journalHandle))
        {
            journalHandle.Dispose();
            return null; // Locked by a running save of the same output.
        }

        var journal = new FileStream(journalHandle, FileAccess.ReadWrite, 0);
        try
        {
            var remote = RemoteEntries(plan);
            var earlier = ReadEarlier(journal, out var earlierLength, out var earlierOffsets);
            File.Delete(newData); // Left by a run killed while it copied (a regular file: checked above).
            var usable = new Dictionary<Digest, long>();
            var hasData = File.Exists(dataPath);
            if (hasData)
            {
                foreach (var entry in remote)
                {
                    if (earlier.TryGetValue(entry.Blob!.Descriptor.Digest, out var have) && have > 0 && earlierOffsets.TryGetValue(entry.Blob.Descriptor.Digest, out var old) && old.Size == entry.Size)
                    {
                        usable[entry.Blob.Descriptor.Digest] = have;
                    }
                }
            }

            var inPlace = hasData && earlierLength == plan.Length && remote.All(e => earlierOffsets.TryGetValue(e.Blob!.Descriptor.Digest, out var old) && old.Offset == e.DataOffset);
            SafeFileHandle data;
            if (inPlace || usable.Count == 0)
            {
                data = PosixFiles.OpenRegular(dataPath, create: true);
                if (usable.Count == 0)
                {
                    RandomAccess.SetLength(data, 0);
                }
            }
            else
            {
                // The plan moved: copy what still matches into a new file at its new offsets, then put it in place.
                using (var old = PosixFiles.OpenRegular(dataPath, create: false, writable: false))
                using (var fresh = File.OpenHandle(newData, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
                {
                    RandomAccess.SetLength(fresh, plan.Length);
                    foreach (var entry in remote.Where(e => usable.ContainsKey(e.Blob!.Descriptor.Digest)))
                    {
                        CopyRange(old, earlierOffsets[entry.Blob!.Descriptor.Digest].Offset, fresh, entry.DataOffset, usable[entry.Blob.Descriptor.Digest]);
                    }
                }

                File.Move(newData, dataPath, overwrite: true);
                data = PosixFiles.OpenRegular(dataPath, create: false);
            }

            var result = new ResumeJournal(journal, journalPath, dataPath, data, usable, usable.Values.Sum());
            result.WritePlan(plan, remote);
            return result;
        }
        catch
        {
            journal.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Removes the resume state of <paramref name="target"/> unless a running save holds it. Only regular files of this
    /// user's are removed; anything else at those names is left alone and named in the returned warning.
    /// </summary>
    /// <returns>A warning about what was left alone, or <see langword="null"/>.</returns>
    public static string? Discard(string target)
    {
        var (dataPath, journalPath) = PathsOf(target);
        var odd = new[] { dataPath, journalPath, dataPath + ".new" }.Select(p => (Path: p, Kind: PosixFiles.KindOf(p))).Where(p => p.Kind is not (FileKind.Missing or FileKind.Regular)).ToList();
        if (odd.Count > 0)
        {
            return string.Join("; ", odd.Select(p => new UnsafePathException(p.Path, p.Kind).Message)) + "; left alone (not Ferry's resume data)";
        }

        if (!File.Exists(journalPath) && !File.Exists(dataPath))
        {
            return null;
        }

        try
        {
            using var journal = PosixFiles.OpenRegular(journalPath, create: false);
            if (!PosixFiles.TryLock(journal))
            {
                return null; // A running save holds it.
            }

            File.Delete(dataPath);
            File.Delete(dataPath + ".new");
            File.Delete(journalPath);
        }
        catch (UnsafePathException ex)
        {
            return ex.Message + "; left alone";
        }
        catch (IOException)
        {
            // Gone meanwhile.
        }

        return null;
    }

    /// <summary>
    /// Moves the data file to <paramref name="destination"/> (the archive's temporary name), after checking that the name
    /// still holds the very file this run wrote — a link or file swapped in meanwhile is refused, never moved.
    /// </summary>
    /// <exception cref="UnsafePathException">The name holds something else now.</exception>
    public void MoveDataTo(string destination)
    {
        EnsureDataIsOurs();
        File.Move(DataPath, destination);
    }

    /// <summary>Opens the data file for reading back (compression), by its name but checked to be the very file this run wrote.</summary>
    /// <exception cref="UnsafePathException">The name holds something else now.</exception>
    public SafeFileHandle OpenDataForReading()
    {
        var handle = PosixFiles.OpenRegular(DataPath, create: false, writable: false);
        if (!PosixFiles.IsSameFile(handle, Data))
        {
            handle.Dispose();
            throw Replaced();
        }

        return handle;
    }

    private void EnsureDataIsOurs()
    {
        if (!PosixFiles.IsSameFile(Data, DataPath))
        {
            throw Replaced();
        }
    }

    private UnsafePathException Replaced() => new(DataPath, PosixFiles.KindOf(DataPath), "no longer the file this save wrote (replaced meanwhile)");

    /// <summary>How many bytes of a blob the earlier run left (its size when it was done); 0 when none.</summary>
    public long EarlierOf(Digest digest) => _earlier.TryGetValue(digest, out var have) ? have : 0;

    /// <summary>Records that the first <paramref name="bytes"/> bytes of a blob are written.</summary>
    public void Have(Digest digest, long bytes) => Record(digest, bytes, $"have {digest} {bytes.ToString(CultureInfo.InvariantCulture)}\n");

    /// <summary>Records a blob done (written and verified).</summary>
    public void Done(Digest digest, long size) => Record(digest, size, $"done {digest}\n");

    /// <summary>Checks that the data file holds a blob whole at <paramref name="offset"/> (hash and size).</summary>
    public async Task<bool> HoldsAsync(Oci.Descriptor descriptor, long offset, CancellationToken cancellationToken)
    {
        using var hash = descriptor.Digest.CreateHash();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long done = 0; done < descriptor.Size;)
            {
                var n = await RandomAccess.ReadAsync(Data, buffer.AsMemory(0, (int)Math.Min(buffer.Length, descriptor.Size - done)), offset + done, cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    return false;
                }

                hash.AppendData(buffer, 0, n);
                done += n;
            }

            return Convert.ToHexStringLower(hash.GetHashAndReset()) == descriptor.Digest.Hex;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The run committed the archive (the data file was moved to it): the journal goes.</summary>
    public void Finish()
    {
        // Removed while still locked: no other run can take up a journal that is about to disappear.
        DeleteOwn();
        Close();
    }

    /// <summary>The run failed or was stopped: keep both files for the next run, or remove them when they hold nothing.</summary>
    /// <returns>The blob bytes kept (0 when nothing was).</returns>
    public long Keep()
    {
        // What an earlier run left and this one did not get to check yet stays too.
        var kept = Math.Max(RecordedBytes, EarlierBytes);
        if (kept == 0)
        {
            DeleteOwn();
        }

        Close();
        return kept;
    }

    /// <summary>The run failed in a way resume data cannot help with (a disk too small for the archive): both files go.</summary>
    public void Drop()
    {
        DeleteOwn();
        Close();
    }

    private void DeleteOwn()
    {
        if (PosixFiles.IsSameFile(Data, DataPath))
        {
            File.Delete(DataPath);
        }

        if (PosixFiles.IsSameFile(_journal.SafeFileHandle, JournalPath))
        {
            File.Delete(JournalPath);
        }
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    private string JournalPath { get; }

    private static List<TarPlanEntry> RemoteEntries(TarLayoutPlan plan) => [.. plan.Entries.Where(e => e.Blob is { Content: null })];

    private static void CopyRange(SafeFileHandle from, long fromOffset, SafeFileHandle to, long toOffset, long length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long done = 0; done < length;)
            {
                var n = RandomAccess.Read(from, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - done)), fromOffset + done);
                if (n == 0)
                {
                    return;
                }

                RandomAccess.Write(to, buffer.AsSpan(0, n), toOffset + done);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads what an earlier run recorded; anything unreadable (no journal, another format, a torn last line) counts as nothing.</summary>
    private static Dictionary<Digest, long> ReadEarlier(FileStream journal, out long length, out Dictionary<Digest, (long Offset, long Size)> offsets)
    {
        length = -1;
        offsets = [];
        var have = new Dictionary<Digest, long>();
        journal.Position = 0;
        using var reader = new StreamReader(journal, Encoding.UTF8, false, 1 << 16, leaveOpen: true);
        if (reader.ReadLine() is not { } header || !header.StartsWith(Magic + " ", StringComparison.Ordinal) ||
            !long.TryParse(header.AsSpan(Magic.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length))
        {
            length = -1;
            return have;
        }

        while (reader.ReadLine() is { } line)
        {
            if (reader.EndOfStream && !EndsWithNewline(journal))
            {
                break; // Torn by the kill.
            }

            var parts = line.Split(' ');
            switch (parts)
            {
                case ["blob", var d, var o, var s] when Digest.TryParse(d, out var digest) && long.TryParse(o, NumberStyles.None, CultureInfo.InvariantCulture, out var offset) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var size):
                    offsets[digest] = (offset, size);
                    break;
                case ["done", var d] when Digest.TryParse(d, out var digest) && offsets.TryGetValue(digest, out var at):
                    have[digest] = at.Size;
                    break;
                case ["have", var d, var b] when Digest.TryParse(d, out var digest) && long.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) && offsets.TryGetValue(digest, out var at) && bytes <= at.Size:
                    have[digest] = bytes;
                    break;
            }
        }

        return have;
    }

    private static bool EndsWithNewline(FileStream journal)
    {
        if (journal.Length == 0)
        {
            return true;
        }

        Span<byte> last = stackalloc byte[1];
        RandomAccess.Read(journal.SafeFileHandle, last, journal.Length - 1);
        return last[0] == (byte)'\n';
    }

    private void WritePlan(TarLayoutPlan plan, List<TarPlanEntry> remote)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Magic} {plan.Length}\n");
        foreach (var entry in remote)
        {
            text.Append(CultureInfo.InvariantCulture, $"blob {entry.Blob!.Descriptor.Digest} {entry.DataOffset} {entry.Size}\n");
        }

        // What the earlier run had stays recorded until this run checks it (a kill before then loses nothing).
        var sizes = remote.ToDictionary(e => e.Blob!.Descriptor.Digest, e => e.Size);
        foreach (var (digest, bytes) in _earlier)
        {
            var size = sizes[digest];
            text.Append(bytes == size ? $"done {digest}\n" : string.Create(CultureInfo.InvariantCulture, $"have {digest} {bytes}\n"));
        }

        _journal.SetLength(0);
        _journal.Position = 0;
        _journal.Write(Encoding.UTF8.GetBytes(text.ToString()));
        _journal.Flush(flushToDisk: true);
    }

    private void Record(Digest digest, long bytes, string line)
    {
        var data = Encoding.UTF8.GetBytes(line);
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _recorded[digest] = bytes;
            _journal.Write(data); // Unbuffered: one write(2) per line, in the file even if the process is killed next.
        }
    }

    private void Close()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            Data.Dispose();
            _journal.Dispose();
        }
    }
}
