using System.Runtime.InteropServices;
using System.Text;

namespace Ferry.Content;

/// <summary>What a path is, as <c>lstat</c> sees it.</summary>
internal enum FileKind
{
    Missing,
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Other,
}

/// <summary>
/// The two file-system calls Ferry needs that the base library does not offer: the type of a path (a FIFO or a
/// device at an output path is written to as a stream, never renamed over) and an atomic exchange of two paths
/// (Linux <c>renameat2(RENAME_EXCHANGE)</c>, so replacing a layout directory never leaves neither the old nor the new
/// one). Written by hand for that reason; elsewhere, or when a call is refused, the fallbacks say so.
/// </summary>
internal static class PosixFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 1;
    private const uint RenameExchange = 2;

    /// <summary>The kind of <paramref name="path"/> itself (a symbolic link is not followed).</summary>
    public static FileKind KindOf(string path)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            return FileKind.SymbolicLink;
        }

        if (Directory.Exists(path))
        {
            return FileKind.Directory;
        }

        if (!info.Exists)
        {
            return FileKind.Missing;
        }

        if (!OperatingSystem.IsLinux())
        {
            return FileKind.Regular;
        }

        try
        {
            var buffer = new byte[256];
            if (Statx(AtFdCwd, Utf8(path), AtSymlinkNoFollow, StatxType, buffer) != 0)
            {
                return FileKind.Regular;
            }

            return (BitConverter.ToUInt16(buffer, 28) & 0xf000) switch
            {
                0x8000 => FileKind.Regular,
                0x4000 => FileKind.Directory,
                0xa000 => FileKind.SymbolicLink,
                0x1000 => FileKind.Fifo,
                0x2000 => FileKind.CharacterDevice,
                0x6000 => FileKind.BlockDevice,
                _ => FileKind.Other,
            };
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return FileKind.Regular;
        }
    }

    /// <summary>Swaps two existing paths atomically; <see langword="false"/> when the system cannot (the caller falls back).</summary>
    public static bool TryExchange(string a, string b)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return RenameAt2(AtFdCwd, Utf8(a), AtFdCwd, Utf8(b), RenameExchange) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Whether a process of that id is running (Linux: <c>/proc/ID</c> exists).</summary>
    public static bool IsRunning(int pid) => !OperatingSystem.IsLinux() || Directory.Exists($"/proc/{pid}");

    /// <summary>
    /// Makes <paramref name="link"/> a hard link to <paramref name="existing"/> (.NET has no API for it); <see langword="false"/>
    /// when the file system cannot (another device, no link support, the source gone).
    /// </summary>
    public static bool TryHardLink(string existing, string link) =>
        OperatingSystem.IsLinux() && Link(Utf8(existing), Utf8(link)) == 0;

    private static byte[] Utf8(string path) => Encoding.UTF8.GetBytes(path + "\0");

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Link(byte[] existing, byte[] link);

    // DllImport rather than LibraryImport: the generated marshaller needs unsafe code, which Ferry.Core does not allow.
    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int dirfd, byte[] path, int flags, uint mask, [Out] byte[] buffer);

    [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int RenameAt2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, uint flags);
}
