using Ferry.Errors;

namespace Ferry.Saving;

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
        var target = Path.GetFullPath(path.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : path);
        var directory = Path.GetDirectoryName(target) ?? ".";
        if (!Directory.Exists(directory))
        {
            throw new OutputException($"cannot write {path}: directory {directory} does not exist");
        }

        var temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.ferry-{Guid.NewGuid().ToString("N")[..12]}.tmp");
        return new AtomicOutput(target, temporary);
    }

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
