using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Content;

/// <summary>
/// Asks the kernel to start writing a just-written file range to disk without waiting for it (Linux
/// <c>sync_file_range(SYNC_FILE_RANGE_WRITE)</c>), so the final <c>fsync</c> that makes an archive durable before its
/// rename finds little left to do. A hint only: elsewhere, or when the call is refused, nothing happens.
/// Written by hand: the base library exposes only the waiting <c>fsync</c>.
/// </summary>
internal sealed class EarlyWriteback(SafeFileHandle file, long every = EarlyWriteback.DefaultEvery)
{
    /// <summary>How many bytes are written between two hints.</summary>
    public const long DefaultEvery = 8 * 1024 * 1024;

    private const uint SyncFileRangeWrite = 2;
    private static bool _unavailable = !OperatingSystem.IsLinux();
    private long _hintedTo;

    /// <summary>Notes that the file now has <paramref name="end"/> bytes written; starts writeback of what is new once enough has piled up.</summary>
    public void Written(long end)
    {
        if (end - _hintedTo < every)
        {
            return;
        }

        Start(file, _hintedTo, end - _hintedTo);
        _hintedTo = end;
    }

    /// <summary>Starts writeback of one range written out of order (positional writes), without waiting.</summary>
    public static void Start(SafeFileHandle file, long offset, long count)
    {
        if (_unavailable || count <= 0)
        {
            return;
        }

        try
        {
            if (SyncFileRange(file, offset, count, SyncFileRangeWrite) != 0)
            {
                _unavailable = Marshal.GetLastPInvokeError() is 38 or 95; // ENOSYS, EOPNOTSUPP: stop asking
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _unavailable = true;
        }
    }

    // DllImport rather than LibraryImport: the generated marshaller needs unsafe code, which Ferry.Core does not allow.
    [DllImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int SyncFileRange(SafeFileHandle fd, long offset, long count, uint flags);
}
