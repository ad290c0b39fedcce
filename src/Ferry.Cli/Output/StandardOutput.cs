using Microsoft.Win32.SafeHandles;

namespace Ferry.Cli.Output;

/// <summary>stdout as a data stream (an archive written with <c>-o -</c>).</summary>
internal static class StandardOutput
{
    /// <summary>
    /// File descriptor 1 as a plain file stream. Console's own stdout stream ignores a broken pipe (EPIPE) and
    /// reports success; this one fails the write, so <c>ferry save -o - … | head -c 1000</c> stops at once with an
    /// error instead of downloading everything and saying "saved".
    /// </summary>
    public static Stream OpenForData() => new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
}
