using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

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

    /// <summary>
    /// The kind of what <paramref name="path"/> ends at, links followed by the kernel — also links the base library
    /// cannot follow by name, such as <c>/dev/stdout</c> → <c>/proc/self/fd/1</c> → <c>pipe:[…]</c>.
    /// </summary>
    public static FileKind KindThroughLinks(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return Directory.Exists(path) ? FileKind.Directory : File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        }

        try
        {
            var buffer = new byte[256];
            return Statx(AtFdCwd, Utf8(path), 0, StatxType, buffer) != 0 ? FileKind.Missing : TypeOf(buffer);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return File.Exists(path) ? FileKind.Regular : FileKind.Missing;
        }
    }

    /// <summary>Whether a path ends, through any links, at a FIFO or a device: it is read or written as a stream, never seeked or renamed.</summary>
    public static bool IsPipeOrDevice(string path) => KindThroughLinks(path) is FileKind.Fifo or FileKind.CharacterDevice or FileKind.BlockDevice;

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
            return Statx(AtFdCwd, Utf8(path), AtSymlinkNoFollow, StatxType, buffer) != 0 ? FileKind.Regular : TypeOf(buffer);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return FileKind.Regular;
        }
    }

    /// <summary>The file type in a <c>statx</c> buffer's <c>stx_mode</c>.</summary>
    private static FileKind TypeOf(byte[] statx) => (BitConverter.ToUInt16(statx, 28) & 0xf000) switch
    {
        0x8000 => FileKind.Regular,
        0x4000 => FileKind.Directory,
        0xa000 => FileKind.SymbolicLink,
        0x1000 => FileKind.Fifo,
        0x2000 => FileKind.CharacterDevice,
        0x6000 => FileKind.BlockDevice,
        _ => FileKind.Other,
    };

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

    /// <summary>
    /// Opens <paramref name="path"/> for reading and writing so that it cannot be redirected: a symbolic link at the name is
    /// refused (<c>O_NOFOLLOW</c>), a FIFO does not block (<c>O_NONBLOCK</c>), and what was opened must be a regular file
    /// owned by this user (<c>fstat</c>), else it is closed and refused. With <paramref name="create"/> a missing file is
    /// made (mode 0600); with <paramref name="exclusive"/> an existing one is refused too (<c>O_EXCL</c>).
    /// </summary>
    /// <exception cref="UnsafePathException">Something else is at the name.</exception>
    /// <exception cref="IOException">It could not be opened for another reason.</exception>
    public static SafeFileHandle OpenRegular(string path, bool create, bool exclusive = false, bool writable = true)
    {
        if (!OperatingSystem.IsLinux())
        {
            var kind = KindOf(path);
            if (kind is not (FileKind.Missing or FileKind.Regular) || (exclusive && kind != FileKind.Missing))
            {
                throw new UnsafePathException(path, kind);
            }

            return File.OpenHandle(path, exclusive ? FileMode.CreateNew : create ? FileMode.OpenOrCreate : FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }

        var noFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;
        var flags = (writable ? 2 : 0) | 0x80000 /* O_CLOEXEC */ | 0x800 /* O_NONBLOCK */ | noFollow | (create ? 0x40 : 0) | (exclusive ? 0x80 : 0);
        var fd = Open(Utf8(path), flags, 0x180 /* 0600 */);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var kind = KindOf(path);
            if (errno is 40 /* ELOOP */ or 21 /* EISDIR */ or 17 /* EEXIST */ or 6 /* ENXIO */ && kind is not FileKind.Missing)
            {
                throw new UnsafePathException(path, kind);
            }

            throw errno == 2 ? new FileNotFoundException($"{path} does not exist", path) : new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}", errno);
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        var (type, owner, _, _) = Stat(handle);
        if (type != 0x8000 || owner != GetEuid())
        {
            handle.Dispose();
            throw new UnsafePathException(path, type == 0x8000 ? FileKind.Regular : KindOf(path), type == 0x8000 ? "owned by another user" : null);
        }

        return handle;
    }

    /// <summary>Whether <paramref name="path"/> (not followed) is the very file <paramref name="handle"/> has open.</summary>
    public static bool IsSameFile(SafeFileHandle handle, string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return KindOf(path) == FileKind.Regular;
        }

        var buffer = new byte[256];
        if (Statx(AtFdCwd, Utf8(path), AtSymlinkNoFollow, StatxBasic, buffer) != 0)
        {
            return false;
        }

        var (_, _, inode, device) = Stat(handle);
        return BitConverter.ToUInt64(buffer, 32) == inode && Device(buffer) == device;
    }

    /// <summary>Whether two open handles are the same file.</summary>
    public static bool IsSameFile(SafeFileHandle a, SafeFileHandle b)
    {
        if (!OperatingSystem.IsLinux())
        {
            return true;
        }

        var (_, _, inodeA, deviceA) = Stat(a);
        var (_, _, inodeB, deviceB) = Stat(b);
        return inodeA == inodeB && deviceA == deviceB;
    }

    /// <summary>Takes an exclusive advisory lock without waiting; <see langword="false"/> when another process holds one.</summary>
    public static bool TryLock(SafeFileHandle handle) => !OperatingSystem.IsLinux() || Flock(handle, 2 /* LOCK_EX */ | 4 /* LOCK_NB */) == 0;

    /// <summary>Whether a process of that id is running (Linux: <c>/proc/ID</c> exists).</summary>
    public static bool IsRunning(int pid) => !OperatingSystem.IsLinux() || Directory.Exists($"/proc/{pid}");

    /// <summary>
    /// Makes <paramref name="link"/> a hard link to <paramref name="existing"/> (.NET has no API for it); <see langword="false"/>
    /// when the file system cannot (another device, no link support, the source gone).
    /// </summary>
    public static bool TryHardLink(string existing, string link) =>
        OperatingSystem.IsLinux() && Link(Utf8(existing), Utf8(link)) == 0;

    private const uint StatxBasic = 0x7ff;

    private static (int Type, uint Owner, ulong Inode, ulong Device) Stat(SafeFileHandle handle)
    {
        var buffer = new byte[256];
        if (Statx(handle, [0], 0x1000 /* AT_EMPTY_PATH */, StatxBasic, buffer) != 0)
        {
            throw new IOException($"cannot inspect an open file: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        return (BitConverter.ToUInt16(buffer, 28) & 0xf000, BitConverter.ToUInt32(buffer, 20), BitConverter.ToUInt64(buffer, 32), Device(buffer));
    }

    private static ulong Device(byte[] statx) => ((ulong)BitConverter.ToUInt32(statx, 136) << 32) | BitConverter.ToUInt32(statx, 140);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Open(byte[] path, int flags, int mode);

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(SafeFileHandle dirfd, byte[] path, int flags, uint mask, [Out] byte[] buffer);

    [DllImport("libc", EntryPoint = "flock", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Flock(SafeFileHandle fd, int operation);

    [DllImport("libc", EntryPoint = "geteuid")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern uint GetEuid();

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

/// <summary>Something Ferry did not make is at a name it creates or reuses (a link, a directory, a FIFO, another user's file); it is left alone.</summary>
public sealed class UnsafePathException : IOException
{
    internal UnsafePathException(string path, FileKind kind, string? why = null)
        : base($"{path} is {why ?? Describe(kind)}, not a file Ferry made")
    {
        Path = path;
    }

    /// <summary>The name.</summary>
    public string Path { get; }

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Directory => "a directory",
        FileKind.Fifo => "a FIFO",
        FileKind.CharacterDevice or FileKind.BlockDevice => "a device",
        FileKind.Regular => "an existing file",
        _ => "something unexpected",
    };
}
