using System.Globalization;
using System.Text.RegularExpressions;

namespace Ferry.Content;

/// <summary>
/// What a killed Ferry (SIGKILL, a power cut) leaves behind, found and removed by the next run: temporary outputs
/// beside a target and spool directories under <c>$TMPDIR</c>. Their names carry the process id of their owner, and
/// only names of exactly Ferry's form whose owner is no longer running are removed — never anything else.
/// </summary>
internal static partial class Debris
{
    /// <summary>The prefix of a spool directory this process creates under <c>$TMPDIR</c>.</summary>
    public static string SpoolPrefix(string kind) => $"ferry-{kind}-{Environment.ProcessId}-";

    /// <summary>
    /// Creates a spool directory of this process under <c>$TMPDIR</c> (<c>mkdtemp</c>: a fresh name, mode 0700, never an
    /// existing directory or link); a missing or read-only <c>TMPDIR</c> is named in the message.
    /// </summary>
    /// <exception cref="Errors.OutputException">It cannot be created.</exception>
    public static string CreateSpool(string kind)
    {
        RemoveDeadSpools();
        try
        {
            return Directory.CreateTempSubdirectory(SpoolPrefix(kind)).FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new Errors.OutputException($"cannot create a spool directory in TMPDIR ({Path.GetTempPath().TrimEnd('/')}): {ex.Message}; set TMPDIR to a writable directory with room", ex);
        }
    }

    /// <summary>A spool that filled its disk, said with the sizes and where.</summary>
    public static Errors.OutputException SpoolFull(string spool, long written, Exception cause) =>
        new($"TMPDIR filled while spooling: {DiskSpace.Needs(written, spool)} at least ({DiskSpace.Size(written)} written before the disk filled); set TMPDIR to a directory with room", cause);

    /// <summary>The name of a temporary output beside <paramref name="target"/>.</summary>
    public static string TemporaryName(string target) => $".{Path.GetFileName(target)}.ferry-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}.tmp";

    /// <summary>Removes temporary outputs of <paramref name="target"/> whose process is gone.</summary>
    public static void RemoveDeadOutputs(string target)
    {
        var directory = Path.GetDirectoryName(target)!;
        var prefix = $".{Path.GetFileName(target)}.ferry-";
        foreach (var entry in SafeEnumerate(directory, prefix + "*"))
        {
            var match = OutputSuffix().Match(Path.GetFileName(entry)[prefix.Length..]);
            if (match.Success && IsDead(match.Groups[1].Value))
            {
                Remove(entry);
            }
        }
    }

    /// <summary>Removes spool directories under <c>$TMPDIR</c> whose process is gone.</summary>
    public static void RemoveDeadSpools()
    {
        foreach (var entry in SafeEnumerate(Path.GetTempPath(), "ferry-*"))
        {
            var match = SpoolName().Match(Path.GetFileName(entry));
            if (match.Success && IsDead(match.Groups[1].Value) && Directory.Exists(entry))
            {
                Remove(entry);
            }
        }
    }

    private static bool IsDead(string pid) =>
        int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id != Environment.ProcessId && !PosixFiles.IsRunning(id);

    private static IEnumerable<string> SafeEnumerate(string directory, string pattern)
    {
        try
        {
            return Directory.EnumerateFileSystemEntries(directory, pattern).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static void Remove(string entry)
    {
        try
        {
            if (Directory.Exists(entry) && new DirectoryInfo(entry).LinkTarget is null)
            {
                Directory.Delete(entry, recursive: true);
            }
            else if (File.Exists(entry))
            {
                File.Delete(entry);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Someone else's, or already gone: leave it.
        }
    }

    [GeneratedRegex(@"^([0-9]{1,9})-[0-9a-f]{12}\.tmp(\.tar|\.old)?$")]
    private static partial Regex OutputSuffix();

    [GeneratedRegex(@"^ferry-(?:read|daemon)-([0-9]{1,9})-[A-Za-z0-9]{4,}$")]
    private static partial Regex SpoolName();
}
