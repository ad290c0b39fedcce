using System.Diagnostics;
using Ferry.Saving;

namespace Ferry.Cli.Output;

/// <summary>Prints save progress to stderr (never stdout: it may carry the archive).</summary>
internal sealed class SaveProgressPrinter(bool quiet) : IProgress<TransferEvent>
{
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastPrint;

    public void Report(TransferEvent value)
    {
        if (quiet)
        {
            return;
        }

        lock (_gate)
        {
            switch (value)
            {
                case ImageResolvedEvent e:
                    var subset = e.Image.IsSubsetIndex ? " (subset index)" : string.Empty;
                    Console.Error.WriteLine($"[{e.Position}/{e.Count}] {e.Image.Reference} {string.Join(",", e.Image.Platforms)} {e.Image.Digest.Short}{subset} {Units.Bytes(e.Image.Bytes)}");
                    break;
                case DownloadStartedEvent e:
                    Console.Error.WriteLine($"downloading {Units.Bytes(e.TotalBytes)} in {e.Blobs} layer blob(s)");
                    break;
                case BlobCompletedEvent e when _clock.ElapsedMilliseconds - _lastPrint > 2000 && e.DoneBytes < e.TotalBytes:
                    _lastPrint = _clock.ElapsedMilliseconds;
                    Console.Error.WriteLine($"  {Units.Bytes(e.DoneBytes)} of {Units.Bytes(e.TotalBytes)} ({100.0 * e.DoneBytes / Math.Max(1, e.TotalBytes):F0}%)");
                    break;
            }
        }
    }
}

/// <summary>Human-readable sizes.</summary>
internal static class Units
{
    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} kB",
        _ => $"{bytes} B",
    };
}
