using System.Diagnostics;
using System.Text.Json;
using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.Cli.Output;

/// <summary>How progress is shown.</summary>
internal enum ProgressMode
{
    /// <summary>One line per image event plus a plain progress line every few seconds.</summary>
    Plain,

    /// <summary>One JSON object per event.</summary>
    Json,

    /// <summary>Errors only.</summary>
    Quiet,
}

/// <summary>
/// Prints save events to stderr (never stdout: it may carry the archive): a line per image with its
/// position in the list and its platforms, a progress line every few seconds, or JSON objects for CI.
/// </summary>
internal sealed class SaveProgressPrinter(ProgressMode mode, bool debug, Func<int, string> describePosition) : IProgress<TransferEvent>
{
    /// <summary>What moving the layers is called: a save downloads them, a merge copies them out of its archives.</summary>
    public string Moving { get; init; } = "downloading";

    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _lastPrint;
    private long _lastJsonBytes = -1000; // the first byte event is written at once
    private long _done;
    private long _total;
    private int _finished;
    private int _count;
    private readonly ListOrder _results = new();

    /// <summary>Prints the result lines still held back for list order (the run ended before earlier images did).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            _results.Flush();
        }
    }

    public void Report(TransferEvent value)
    {
        lock (_gate)
        {
            if (value is DownloadStartedEvent started)
            {
                _total = started.TotalBytes;
            }
            else if (value is BytesTransferredEvent bytes)
            {
                _done += bytes.Bytes;
            }
            else if (value is ImageResolvedEvent resolved)
            {
                _count = resolved.Count;
            }
            else if (value is ImageWrittenEvent or ImageFailedEvent)
            {
                _finished++;
            }

            if (mode == ProgressMode.Json)
            {
                WriteJson(value);
                return;
            }

            switch (value)
            {
                case ImageFailedEvent e:
                    var failedLine = EventText.Failed(e, describePosition(e.Failure.Position));
                    _results.Add(e.Failure.Position, () => Console.Error.WriteLine(failedLine));
                    break;
                case ImageResolvedEvent e when debug && mode != ProgressMode.Quiet:
                    var subset = e.Image.IsSubsetIndex ? " (subset index)" : string.Empty;
                    Console.Error.WriteLine($"{EventText.Image(e.Image, e.Position, e.Count)} resolved {e.Image.Digest.Short}{subset}");
                    break;
                case ImageWrittenEvent e:
                    var savedLine = EventText.Saved(e);
                    _results.Add(e.Position, mode == ProgressMode.Quiet ? null : () => Console.Error.WriteLine(savedLine));
                    break;
                case ResumingEvent e when mode != ProgressMode.Quiet:
                    Console.Error.WriteLine(EventText.Resuming(e));
                    break;
                case ResumeKeptEvent e:
                    Console.Error.WriteLine(EventText.Kept(e));
                    break;
                case OutputWarningEvent e:
                    Console.Error.WriteLine(EventText.Warning(e.Message));
                    break;
                case DownloadStartedEvent e when mode != ProgressMode.Quiet:
                    Console.Error.WriteLine($"{Moving} {Units.Bytes(e.TotalBytes)} in {e.Blobs} layer blob(s)");
                    break;
                case BytesTransferredEvent when mode != ProgressMode.Quiet && _clock.ElapsedMilliseconds - _lastPrint >= 5000:
                    // A line at least every 5 s while bytes move (CI logs, a run killed early still shows where it was).
                    _lastPrint = _clock.ElapsedMilliseconds;
                    var rate = _done / Math.Max(0.001, _clock.Elapsed.TotalSeconds);
                    var left = _total > _done ? $", ETA {(_total - _done) / Math.Max(1, rate):F0} s" : string.Empty;
                    var of = _total > 0 ? $" of {Units.Bytes(_total)} ({100.0 * _done / _total:F0}%)" : string.Empty;
                    // Result lines come in list order, so one may wait for an earlier image; the count says where the run is.
                    var images = _count > 0 ? $"; {_finished}/{_count} images done" : string.Empty;
                    Console.Error.WriteLine($"  {Units.Bytes(_done)}{of}, {Units.Bytes((long)rate)}/s{left}{images}");
                    break;
            }
        }
    }

    private void WriteJson(TransferEvent value)
    {
        // Byte events: throttled to one object per 500 ms (the last one of a transfer comes with its blob-done).
        if (value is BytesTransferredEvent && _clock.ElapsedMilliseconds - _lastJsonBytes < 500)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Oci.JsonFiles.Compact))
        {
            writer.WriteStartObject();
            writer.WriteNumber("elapsed", Math.Round(_clock.Elapsed.TotalSeconds, 3));
            switch (value)
            {
                case ImageFailedEvent e:
                    writer.WriteString("event", "image-failed");
                    writer.WriteNumber("position", e.Failure.Position);
                    writer.WriteNumber("count", e.Count);
                    writer.WriteString("image", e.Failure.Image);
                    writer.WriteString("error", e.Failure.Reason);
                    writer.WriteString("kind", JsonLines.Name(e.Failure.Kind));
                    break;
                case ImageResolvedEvent e:
                    WriteImage(writer, "image-resolved", e.Image, e.Position, e.Count);
                    break;
                case ImageWrittenEvent e:
                    WriteImage(writer, "image-saved", e.Image, e.Position, e.Count);
                    break;
                case ResumingEvent e:
                    writer.WriteString("event", "resuming");
                    writer.WriteString("path", e.Path);
                    writer.WriteNumber("earlierBytes", e.EarlierBytes);
                    break;
                case ResumeKeptEvent e:
                    writer.WriteString("event", "resume-kept");
                    writer.WriteString("path", e.Path);
                    writer.WriteNumber("keptBytes", e.KeptBytes);
                    break;
                case OutputWarningEvent e:
                    writer.WriteString("event", "warning");
                    writer.WriteString("message", e.Message);
                    break;
                case DownloadStartedEvent e:
                    writer.WriteString("event", "download-started");
                    writer.WriteNumber("blobs", e.Blobs);
                    writer.WriteNumber("totalBytes", e.TotalBytes);
                    break;
                case BytesTransferredEvent e:
                    _lastJsonBytes = _clock.ElapsedMilliseconds;
                    writer.WriteString("event", "bytes");
                    if (e.Blob is { } blob)
                    {
                        writer.WriteString("digest", blob.ToString());
                    }

                    writer.WriteNumber("doneBytes", _done);
                    writer.WriteNumber("totalBytes", _total);
                    break;
                case BlobCompletedEvent e:
                    writer.WriteString("event", "blob-done");
                    writer.WriteString("digest", e.Digest.ToString());
                    writer.WriteNumber("size", e.Size);
                    writer.WriteNumber("doneBytes", e.DoneBytes);
                    writer.WriteNumber("totalBytes", e.TotalBytes);
                    break;
            }

            writer.WriteEndObject();
        }

        Console.Error.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }

    private static void WriteImage(Utf8JsonWriter writer, string name, SavedImage image, int position, int count)
    {
        writer.WriteString("event", name);
        writer.WriteNumber("position", position);
        writer.WriteNumber("count", count);
        writer.WriteString("image", image.Reference.ToString());
        writer.WriteString("digest", image.Digest.ToString());
        writer.WriteStartArray("platforms");
        foreach (var platform in image.Platforms)
        {
            writer.WriteStringValue(platform.ToString());
        }

        writer.WriteEndArray();
        writer.WriteNumber("bytes", image.Bytes);
    }
}

/// <summary>Human-readable sizes, in IEC units as docker and podman print them (and as the live bars show them).</summary>
internal static class Units
{
    /// <summary>
    /// A size as users write it: <c>4GiB</c>, <c>4G</c> and <c>4g</c> (binary, as docker's and split's suffixes),
    /// <c>4GB</c> (decimal: what a DVD's "4.7 GB" means), <c>700MiB</c>, or plain bytes.
    /// </summary>
    public static long ParseSize(string text, string option)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)([bB]?)$");
        if (!match.Success || (match.Groups[3].Length > 0 && (match.Groups[2].Length == 0 || match.Groups[4].Length == 0)))
        {
            throw new Errors.InvalidInputException($"{option} {text}: not a size (e.g. 4GiB, 700MiB, 4.7GB, 1048576)");
        }

        var power = "kmgt".IndexOf(char.ToLowerInvariant(match.Groups[2].Value.FirstOrDefault('_'))) + 1;
        var decimalUnit = match.Groups[4].Length > 0 && match.Groups[3].Length == 0 && power > 0;
        var value = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * Math.Pow(decimalUnit ? 1000 : 1024, power);
        return value is >= 1 and < long.MaxValue ? (long)value : throw new Errors.InvalidInputException($"{option} {text}: out of range");
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F1} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
