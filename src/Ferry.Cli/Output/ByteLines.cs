namespace Ferry.Cli.Output;

/// <summary>
/// Progress of bytes moving, for commands without live bars (load, copy): in JSON mode a <c>bytes</c> object at most
/// every 500 ms; in plain mode a line at least every 5 s while bytes move.
/// </summary>
internal sealed class ByteLines(OutputMode mode)
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private long _done;
    private long _last;
    private bool _any;

    public void Add(long bytes)
    {
        _done += bytes;
        var now = _clock.ElapsedMilliseconds;
        if (mode.Json && (!_any || now - _last >= 500))
        {
            _any = true;
            _last = now;
            JsonLines.Write("bytes", w => w.WriteNumber("doneBytes", _done));
        }
        else if (mode.TalksInText && now - _last >= 5000)
        {
            _last = now;
            Console.Error.WriteLine($"  {Units.Bytes(_done)} sent, {Units.Bytes((long)(_done / Math.Max(0.001, _clock.Elapsed.TotalSeconds)))}/s");
        }
    }
}
