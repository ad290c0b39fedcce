namespace Ferry.Transfer;

/// <summary>
/// Reports each event on the thread that raised it, one at a time and in order. <see cref="Progress{T}"/> posts every
/// event to the thread pool, so a console program using it sees events out of order (a blob done before its image
/// was resolved); use this one instead.
/// </summary>
/// <typeparam name="T">The event type.</typeparam>
/// <param name="report">What to do with each event.</param>
public sealed class InOrderProgress<T>(Action<T> report) : IProgress<T>
{
    private readonly Lock _gate = new();

    /// <inheritdoc />
    public void Report(T value)
    {
        lock (_gate)
        {
            report(value);
        }
    }
}
