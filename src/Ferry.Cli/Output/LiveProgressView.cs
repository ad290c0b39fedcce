using Ferry.Saving;
using Ferry.Transfer;
using Spectre.Console;

namespace Ferry.Cli.Output;

/// <summary>
/// Live progress bars on a terminal (stderr): one overall bar with bytes, rate and ETA, and a line per
/// image being worked on; each image's result stays printed above the bars.
/// </summary>
internal sealed class LiveProgressView : IProgress<TransferEvent>
{
    private readonly ProgressContext _context;
    private readonly IAnsiConsole _console;
    private readonly Dictionary<int, ProgressTask> _images = [];
    private readonly Lock _gate = new();
    private ProgressTask? _overall;
    private int _count;
    private int _done;

    private readonly Func<int, string> _describePosition;

    private LiveProgressView(ProgressContext context, IAnsiConsole console, Func<int, string> describePosition)
    {
        _context = context;
        _console = console;
        _describePosition = describePosition;
    }

    /// <summary>Whether live bars fit: stderr is a terminal.</summary>
    public static bool IsSupported => !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("TERM") is not (null or "dumb");

    public static async Task<T> RunAsync<T>(Func<int, string> describePosition, Func<IProgress<TransferEvent>, Task<T>> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        await console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async context => result = await work(new LiveProgressView(context, console, describePosition)).ConfigureAwait(false))
            .ConfigureAwait(false);
        return result;
    }

    public void Report(TransferEvent value)
    {
        lock (_gate)
        {
            switch (value)
            {
                case ImageResolvedEvent e:
                    _count = e.Count;
                    var task = _context.AddTask(Markup.Escape(EventText.Image(e.Image, e.Position, e.Count)), maxValue: Math.Max(1, e.Image.Bytes));
                    task.IsIndeterminate = true;
                    _images[e.Position] = task;
                    break;
                case ImageFailedEvent e:
                    _console.MarkupLine($"[red]{Markup.Escape(EventText.Failed(e, _describePosition(e.Failure.Position)))}[/]");
                    break;
                case DownloadStartedEvent e:
                    _overall = _context.AddTask("total", maxValue: Math.Max(1, e.TotalBytes));
                    break;
                case BytesTransferredEvent e:
                    _overall?.Increment(e.Bytes);
                    foreach (var position in e.Positions)
                    {
                        if (_images.TryGetValue(position, out var bar))
                        {
                            bar.IsIndeterminate = false;
                            bar.Increment(e.Bytes);
                        }
                    }

                    break;
                case ImageSavedEvent e:
                    _done++;
                    if (_images.Remove(e.Position, out var image))
                    {
                        image.Value = image.MaxValue;
                        image.StopTask();
                    }

                    if (_overall is not null)
                    {
                        _overall.Description = $"total ({_done}/{_count} images)";
                    }

                    _console.WriteLine(EventText.Saved(e));
                    break;
            }
        }
    }
}
