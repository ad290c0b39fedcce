using Ferry.Errors;

namespace Ferry.Archives;

/// <summary>
/// An output that appears atomically: content is written to a temporary name beside the target and
/// renamed over it at the end. On failure or cancellation the temporary is removed and any earlier file at
/// the target is left untouched.
/// </summary>
internal sealed class AtomicOutput
{
    private AtomicOutput(string target, string temporary)
    {
        Target = target;
        Temporary = temporary;
    }

    public string Target { get; }

    public string Temporary { get; }

    public static AtomicOutput Prepare(string path)
    {
        var target = Resolve(path);
        var directory = Path.GetDirectoryName(target) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new OutputException($"cannot write {path}: directory {directory} does not exist");
        }

        Content.Debris.RemoveDeadOutputs(target);
        return new AtomicOutput(target, Path.Combine(directory, Content.Debris.TemporaryName(target)));
    }

    /// <summary>
    /// The path an output really goes to: a symbolic link is followed to its final target (the archive replaces what
    /// it points at, atomically beside it, and the link stays a link).
    /// </summary>
    public static string Resolve(string path)
    {
        var target = Path.GetFullPath(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : path);
        if (Content.PosixFiles.KindOf(target) == Content.FileKind.SymbolicLink)
        {
            try
            {
                target = File.ResolveLinkTarget(target, returnFinalTarget: true)?.FullName ?? target;
            }
            catch (IOException ex)
            {
                throw new OutputException($"cannot write {path}: it is a symbolic link that cannot be followed ({ex.Message})", ex);
            }
        }

        return target;
    }

    /// <summary>
    /// Whether an output path is a FIFO or a device (<c>/dev/stdout</c>, <c>/dev/null</c>, a named pipe): it is written to
    /// as a stream, as <c>docker save -o</c> does, and never renamed over.
    /// </summary>
    public static bool IsStream(string path) => Content.PosixFiles.IsPipeOrDevice(path);

    public void CommitFile()
    {
        if (Directory.Exists(Target))
        {
            throw new OutputException($"cannot write {Target}: it is a directory");
        }

        // On disk before it has its name: after a crash the target is the old file or the whole new one.
        using (var written = new FileStream(Temporary, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1))
        {
            written.Flush(flushToDisk: true);
        }

        File.Move(Temporary, Target, overwrite: true);
    }

    public void CommitDirectory()
    {
        if (File.Exists(Target))
        {
            throw new OutputException($"cannot write directory {Target}: a file of that name exists");
        }

        if (!Directory.Exists(Target))
        {
            Directory.Move(Temporary, Target);
            return;
        }

        // Replace an earlier layout (or an empty directory), never arbitrary user data.
        var isEmpty = !Directory.EnumerateFileSystemEntries(Target).Any();
        if (!isEmpty && !File.Exists(Path.Combine(Target, "oci-layout")))
        {
            throw new OutputException($"cannot write directory {Target}: it exists, is not empty and is not an image layout");
        }

        // One atomic exchange: at every moment Target is the old layout or the new one, never neither. After it the
        // temporary name holds the old layout (a crash now leaves it to the next run's clean-up).
        if (Content.PosixFiles.TryExchange(Temporary, Target))
        {
            Directory.Delete(Temporary, recursive: true);
            return;
        }

        var old = Temporary + ".old";
        Directory.Move(Target, old);
        Directory.Move(Temporary, Target);
        Directory.Delete(old, recursive: true);
    }

    public void Abandon()
    {
        try
        {
            if (File.Exists(Temporary))
            {
                File.Delete(Temporary);
            }
            else if (Directory.Exists(Temporary))
            {
                Directory.Delete(Temporary, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: the temporary has a recognisable name.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}
