namespace Ferry.Cli.Output;

/// <summary>Reports on the calling thread, one event at a time (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
/// <typeparam name="T">The event type.</typeparam>
internal sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    public void Report(T value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
