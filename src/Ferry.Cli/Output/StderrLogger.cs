using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Output;

/// <summary>
/// A minimal synchronous logger writing one line per event to stderr. Written by hand to keep start-up
/// fast (the Microsoft console logger adds a background queue and configuration binding).
/// </summary>
internal sealed class StderrLogger(LogLevel minimum) : ILogger
{
    private static readonly Lock Gate = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var level = logLevel switch
        {
            LogLevel.Warning => "warning: ",
            LogLevel.Error or LogLevel.Critical => "error: ",
            LogLevel.Debug or LogLevel.Trace => "debug: ",
            _ => string.Empty,
        };
        lock (Gate)
        {
            Console.Error.WriteLine($"ferry: {level}{TerminalText.Escape(formatter(state, exception))}");
        }
    }
}
