namespace Ferry.Cli.Output;

/// <summary>
/// Prints per-image result lines in list order: with <c>-j</c> images finish in any order, and a log that reads
/// <c>[3/9] … [1/9] … [2/9]</c> is harder to follow than one in the order the list was written. A line waits until every
/// earlier position has had its line; whatever is held when the run ends (failure, Ctrl-C) is printed by
/// <see cref="Flush"/>. Not thread-safe: callers hold their own lock.
/// </summary>
internal sealed class ListOrder
{
    private readonly SortedDictionary<int, Action?> _held = [];
    private int _next = 1;

    /// <summary>
    /// What to print for the image at <paramref name="position"/> (1-based), done once all earlier ones are;
    /// <see langword="null"/> says the image prints nothing (quiet mode) but is done, so later ones need not wait for it.
    /// </summary>
    public void Add(int position, Action? print)
    {
        if (position < _next)
        {
            print?.Invoke();
            return;
        }

        _held[position] = print;
        while (_held.Remove(_next, out var ready))
        {
            ready?.Invoke();
            _next++;
        }
    }

    /// <summary>Prints everything held, in order, even with gaps before it.</summary>
    public void Flush()
    {
        foreach (var print in _held.Values)
        {
            print?.Invoke();
        }

        if (_held.Count > 0)
        {
            _next = _held.Keys.Max() + 1;
        }

        _held.Clear();
    }
}
