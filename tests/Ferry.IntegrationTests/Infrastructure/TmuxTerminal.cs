namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A real terminal of a given size for the CLI's live display: a detached tmux session on its own server socket,
/// read with <c>capture-pane</c> (wrapped lines joined, so a line that wrapped shows as longer than the terminal).
/// Disposal kills the tmux server and everything in it.
/// </summary>
internal sealed class TmuxTerminal : IAsyncDisposable
{
    private readonly string _socket = $"ferry-test-{Guid.NewGuid():N}";

    private TmuxTerminal()
    {
    }

    public const string ExitMarker = "FERRY-EXIT=";

    /// <summary>Starts <paramref name="command"/> (a shell command line) in a <paramref name="width"/>×<paramref name="height"/> terminal.</summary>
    public static async Task<TmuxTerminal> StartAsync(string command, int width, int height)
    {
        var terminal = new TmuxTerminal();
        var script = $"{command}; echo {ExitMarker}$?; sleep 600";
        var started = await ProcessRunner.RunAsync("tmux", ["-L", terminal._socket, "-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture), "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), script], TimeSpan.FromSeconds(20));
        if (started.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux did not start (is it installed? scripts/install-deps.sh installs it): {started.StandardError}");
        }

        return terminal;
    }

    /// <summary>The screen now, a string per line, trailing blanks removed.</summary>
    public async Task<string[]> CaptureAsync()
    {
        var captured = await ProcessRunner.RunAsync("tmux", ["-L", _socket, "capture-pane", "-p", "-J", "-t", "t"], TimeSpan.FromSeconds(20));
        return captured.StandardOutput.Split('\n').Select(l => l.TrimEnd()).ToArray();
    }

    /// <summary>Captures the screen every <paramref name="interval"/> until the command has exited; every capture, in order.</summary>
    public async Task<List<string[]>> RecordUntilExitAsync(TimeSpan interval, TimeSpan timeout)
    {
        var screens = new List<string[]>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var screen = await CaptureAsync();
            screens.Add(screen);
            if (screen.Any(l => l.StartsWith(ExitMarker, StringComparison.Ordinal)))
            {
                return screens;
            }

            await Task.Delay(interval);
        }

        throw new TimeoutException($"the command did not end within {timeout}; last screen:\n{string.Join('\n', screens.Last())}");
    }

    public async ValueTask DisposeAsync() =>
        await ProcessRunner.RunAsync("tmux", ["-L", _socket, "kill-server"], TimeSpan.FromSeconds(20));
}
