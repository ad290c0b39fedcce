using System.Globalization;

namespace Ferry.Content;

/// <summary>
/// Free space where Ferry writes, checked before the first byte (the plan knows every size) and named when a disk fills
/// anyway: <c>needs 133.7 MiB on /mnt/usb, 20.0 MiB free</c>.
/// </summary>
internal static class DiskSpace
{
    private const int NoSpaceErrno = 28;
    private const int QuotaErrno = 122;

    /// <summary>The mount point that holds <paramref name="path"/> and its free and total bytes; <see langword="null"/> when unknown.</summary>
    public static (string Mount, long Free, long Total)? Of(string path)
    {
        try
        {
            var directory = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path)) ?? path;
            var drive = new DriveInfo(directory);
            return (MountOf(directory), drive.AvailableFreeSpace, drive.TotalSize);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>Whether an I/O error is a full disk or an exhausted quota.</summary>
    public static bool IsFull(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is IOException io && (io.HResult is NoSpaceErrno or QuotaErrno || io.Message.Contains("No space left", StringComparison.Ordinal) || io.Message.Contains("Disk quota exceeded", StringComparison.Ordinal)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><c>needs 133.7 MiB on /mnt/usb, 20.0 MiB free</c> (or without the free part when it is unknown).</summary>
    public static string Needs(long bytes, string path)
    {
        var space = Of(path);
        return space is { } s
            ? $"needs {Size(bytes)} on {s.Mount}, {Size(s.Free)} free"
            : $"needs {Size(bytes)} in {Path.GetDirectoryName(Path.GetFullPath(path))}";
    }

    /// <summary>Refuses early when the file system holding <paramref name="path"/> has less than <paramref name="bytes"/> free.</summary>
    /// <exception cref="Errors.OutputException">It has not.</exception>
    public static void Require(long bytes, string path, string what)
    {
        if (Of(path) is { } space && space.Free < bytes)
        {
            throw new Errors.OutputException($"not enough space for {what}: {Needs(bytes, path)}; nothing was written");
        }
    }

    /// <summary>A size as the rest of Ferry's messages print it (IEC units).</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.00} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.0} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => $"{bytes} B",
    };

    /// <summary>The longest mount point that is a prefix of <paramref name="directory"/> (<c>/proc/self/mounts</c>), else the directory itself.</summary>
    private static string MountOf(string directory)
    {
        var full = Path.GetFullPath(directory);
        try
        {
            var best = "/";
            foreach (var line in File.ReadLines("/proc/self/mounts"))
            {
                var fields = line.Split(' ');
                if (fields.Length < 2)
                {
                    continue;
                }

                var mount = fields[1].Replace("\\040", " ", StringComparison.Ordinal);
                if ((full == mount || full.StartsWith(mount.TrimEnd('/') + "/", StringComparison.Ordinal)) && mount.Length > best.Length)
                {
                    best = mount;
                }
            }

            return best;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return full;
        }
    }
}
