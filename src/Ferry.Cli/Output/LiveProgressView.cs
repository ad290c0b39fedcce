using Ferry.Transfer;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Ferry.Cli.Output;

/// <summary>
/// Live progress bars on a terminal (stderr): a total bar with bytes, rate and ETA, and a bar per image whose bytes are
/// moving (as many as fit); each image's result line stays printed above the bars, in list order. Every column has a
/// fixed width computed from the terminal's, so no line wraps, down to 80 columns and below.
/// </summary>
internal sealed class LiveProgressView : IProgress<TransferEvent>
{
    private readonly ProgressContext _context;
    private readonly IAnsiConsole _console;
    private readonly Func<int, string> _describePosition;
    private readonly ProgressLayout _layout;
    private readonly RateMeter _rate = new();
    private readonly ListOrder _results;
    private readonly Lock _gate = new();
    private readonly Dictionary<int, ImageRow> _rows = [];
    private readonly HashSet<int> _finished = [];
    private readonly Dictionary<int, (string Name, long Bytes)> _images = [];
    private ProgressTask? _total;
    private int _count;
    private int _done;

    private LiveProgressView(ProgressContext context, IAnsiConsole console, Func<int, string> describePosition, ProgressLayout layout)
    {
        _context = context;
        _console = console;
        _describePosition = describePosition;
        _layout = layout;
        _results = new ListOrder();
    }

    /// <summary>Whether live bars fit: stderr is a terminal.</summary>
    public static bool IsSupported => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    public static async Task<T> RunAsync<T>(Func<int, string> describePosition, Func<IProgress<TransferEvent>, Task<T>> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Console.Error),
            Interactive = InteractionSupport.Yes, // stderr is a terminal (IsSupported); stdout may carry the archive
        });
        var layout = ProgressLayout.For(console.Profile.Width, console.Profile.Height);
        T result = default!;
        LiveProgressView? view = null;
        try
        {
            await console.Progress()
                .AutoClear(true)
                .HideCompleted(true)
                .Columns(layout.Columns(view: () => view!))
                .StartAsync(async context =>
                {
                    view = new LiveProgressView(context, console, describePosition, layout);
                    result = await work(view).ConfigureAwait(false);
                })
                .ConfigureAwait(false);
        }
        finally
        {
            view?.FlushResults();
        }

        return result;
    }

    public void Report(TransferEvent value)
    {
        lock (_gate)
        {
            switch (value)
            {
                case ImageResolvedEvent e:
                    StartTotal(e.Count);
                    _images[e.Position] = ($"[{e.Position}/{e.Count}] {e.Image.Reference}", e.Image.Bytes);
                    break;
                case ImageFailedEvent e:
                    StartTotal(e.Count);
                    _finished.Add(e.Failure.Position);
                    var failedLine = EventText.Failed(e, _describePosition(e.Failure.Position));
                    _results.Add(e.Failure.Position, () => _console.Write(new Text(failedLine + Environment.NewLine, new Style(Color.Red))));
                    break;
                case ResumingEvent e:
                    _console.Write(new Text(EventText.Resuming(e) + Environment.NewLine));
                    break;
                case ResumeKeptEvent e:
                    _console.Write(new Text(EventText.Kept(e) + Environment.NewLine, new Style(Color.Yellow)));
                    break;
                case OutputWarningEvent e:
                    _console.Write(new Text(EventText.Warning(e.Message) + Environment.NewLine, new Style(Color.Yellow)));
                    break;
                case DownloadStartedEvent e:
                    StartTotal(_count);
                    _total!.MaxValue = Math.Max(1, e.TotalBytes);
                    _total.IsIndeterminate = false;
                    _rate.Start(e.TotalBytes);
                    UpdateTotalName();
                    break;
                case BytesTransferredEvent e:
                    _total?.Increment(e.Bytes);
                    _rate.Add(e.Bytes);
                    foreach (var position in e.Positions)
                    {
                        RowFor(position, e.Bytes)?.Increment(e.Bytes);
                    }

                    break;
                case ImageWrittenEvent e:
                    _done++;
                    _finished.Add(e.Position);
                    if (_rows.Remove(e.Position, out var row) && row.Task is { } task)
                    {
                        task.Value = task.MaxValue;
                        task.StopTask();
                    }

                    UpdateTotalName();
                    var savedLine = EventText.Saved(e);
                    _results.Add(e.Position, () => _console.WriteLine(savedLine));
                    break;
            }
        }
    }

    /// <summary>The rate and ETA of the total row; other rows show neither.</summary>
    internal (string Rate, string Eta) TotalRate(ProgressTask task) => task == _total ? _rate.Describe() : (string.Empty, string.Empty);

    private void FlushResults()
    {
        lock (_gate)
        {
            _results.Flush();
        }
    }

    private void StartTotal(int count)
    {
        _count = count;
        if (_total is null)
        {
            _total = _context.AddTask(_layout.Name($"resolving {count} image(s)"), maxValue: 1);
            _total.IsIndeterminate = true;
        }
    }

    private void UpdateTotalName() => _total?.Description = _layout.Name($"total {_done}/{_count} images");

    /// <summary>The bar of an image, added when its bytes first move and a row is free (bytes before that still count).</summary>
    private ProgressTask? RowFor(int position, long moved)
    {
        if (_finished.Contains(position))
        {
            return null;
        }

        if (!_rows.TryGetValue(position, out var row))
        {
            _rows[position] = row = new ImageRow();
        }

        if (row.Task is null && _rows.Values.Count(r => r.Task is not null) < _layout.ImageRows && _images.TryGetValue(position, out var image))
        {
            row.Task = _context.AddTask(_layout.Name(image.Name), maxValue: Math.Max(1, image.Bytes));
            row.Task.Value = row.Pending;
            row.Pending = 0;
        }

        if (row.Task is null)
        {
            row.Pending += moved;
        }

        return row.Task;
    }

    private sealed class ImageRow
    {
        public ProgressTask? Task { get; set; }

        public long Pending { get; set; }
    }
}

/// <summary>Column widths fitted to the terminal: the bar and the name share what the fixed columns leave.</summary>
internal sealed record ProgressLayout(int NameWidth, int BarWidth, int ImageRows)
{
    /// <summary>Width of the percentage, bytes, rate and ETA columns, and the five gaps between six columns.</summary>
    internal const int FixedWidth = PercentWidth + BytesWidth + RateWidth + EtaWidth + 5;
    internal const int PercentWidth = 4;
    internal const int BytesWidth = 17;
    internal const int RateWidth = 11;
    internal const int EtaWidth = 11;

    public static ProgressLayout For(int width, int height)
    {
        var rest = Math.Max(16, width - 1 - FixedWidth); // one column spare: a line that fills the last column wraps in some terminals
        var bar = Math.Clamp(rest / 3, 6, 30);
        var name = Math.Min(rest - bar, 56);
        bar = Math.Min(rest - name, 40);
        return new ProgressLayout(name, bar, Math.Clamp(height - 6, 1, 8));
    }

    /// <summary>A row name cut to its column: the end of an image name (repository and tag) matters most.</summary>
    public string Name(string text)
    {
        text = TerminalText.Escape(text);
        if (text.Length > NameWidth)
        {
            var head = text.IndexOf(']', StringComparison.Ordinal) is var close and > 0 and < 12 ? text[..(close + 2)] : string.Empty;
            var room = NameWidth - head.Length - 1;
            text = room > 4 ? head + "…" + text[^room..] : text[..(NameWidth - 1)] + "…";
        }

        return Markup.Escape(text.PadRight(NameWidth));
    }

    public ProgressColumn[] Columns(Func<LiveProgressView> view) =>
    [
        new FixedColumn(NameWidth, (task, _) => new Markup(task.Description)),
        new ProgressBarColumn { Width = BarWidth },
        new FixedColumn(PercentWidth, (task, _) => new Text($"{(int)task.Percentage,3}%")),
        new FixedColumn(BytesWidth, (task, _) => Right(task.IsIndeterminate ? string.Empty : BytesOf(task))),
        new FixedColumn(RateWidth, (task, _) => Right(view().TotalRate(task).Rate)),
        new FixedColumn(EtaWidth, (task, _) => Right(view().TotalRate(task).Eta)),
    ];

    private static Text Right(string text) => new(text) { Justification = Justify.Right };

    /// <summary><c>12.3/133.7 MiB</c>: one unit, the total's.</summary>
    internal static string BytesOf(ProgressTask task)
    {
        var max = (long)task.MaxValue;
        var (divisor, unit) = max switch
        {
            >= 1L << 30 => (1L << 30, "GiB"),
            >= 1L << 20 => (1L << 20, "MiB"),
            >= 1L << 10 => (1L << 10, "KiB"),
            _ => (1L, "B"),
        };
        return divisor == 1 ? $"{(long)task.Value}/{max} B" : $"{task.Value / divisor:F1}/{max / (double)divisor:F1} {unit}";
    }

    private sealed class FixedColumn(int width, Func<ProgressTask, TimeSpan, IRenderable> render) : ProgressColumn
    {
        protected override bool NoWrap => true;

        public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) => render(task, deltaTime);

        public override int? GetColumnWidth(RenderOptions options) => width;
    }
}

/// <summary>The transfer rate over the last few seconds, and the time left at that rate.</summary>
internal sealed class RateMeter
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(5);
    private readonly Queue<(TimeSpan At, long Done)> _samples = new();
    private readonly System.Diagnostics.Stopwatch _clock = new();
    private readonly Lock _gate = new();
    private long _total;
    private long _done;

    public void Start(long totalBytes)
    {
        lock (_gate)
        {
            _total = totalBytes;
            _clock.Restart();
            _samples.Enqueue((TimeSpan.Zero, 0));
        }
    }

    public void Add(long bytes)
    {
        lock (_gate)
        {
            _done += bytes;
            var now = _clock.Elapsed;
            if (_samples.Count == 0 || now - _samples.Last().At >= TimeSpan.FromMilliseconds(100))
            {
                _samples.Enqueue((now, _done));
            }

            while (_samples.Count > 2 && now - _samples.Peek().At > Window)
            {
                _samples.Dequeue();
            }
        }
    }

    /// <summary><c>12.3 MiB/s</c> and <c>ETA 1:05</c>; dashes until a second of data says what the rate is.</summary>
    public (string Rate, string Eta) Describe()
    {
        lock (_gate)
        {
            if (_samples.Count < 2 || _clock.Elapsed < TimeSpan.FromSeconds(1))
            {
                return (string.Empty, "ETA --:--");
            }

            var (at, done) = _samples.Peek();
            var seconds = (_clock.Elapsed - at).TotalSeconds;
            var rate = (_done - done) / Math.Max(0.001, seconds);
            if (rate < 1)
            {
                return ("0 B/s", "ETA --:--");
            }

            var left = TimeSpan.FromSeconds(Math.Ceiling(Math.Max(0, _total - _done) / rate));
            var eta = left.TotalHours >= 1 ? $"{(int)left.TotalHours}:{left:mm\\:ss}" : left.ToString(@"m\:ss", System.Globalization.CultureInfo.InvariantCulture);
            return ($"{Units.Bytes((long)rate)}/s", left.TotalHours >= 100 ? "ETA >99h" : $"ETA {eta}");
        }
    }
}
