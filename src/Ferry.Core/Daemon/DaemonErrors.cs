using System.Text.Json;

namespace Ferry.Daemon;

/// <summary>Reads the error objects the Engine writes into its streams (<c>{"errorDetail":{"message":…},"error":…}</c>).</summary>
internal static class DaemonErrors
{
    /// <summary>The message of an error object, or the text's first line when it is not one.</summary>
    /// <param name="text">What the daemon sent.</param>
    /// <returns>One line.</returns>
    public static string MessageOf(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            var message = root.TryGetProperty("errorDetail", out var detail) && detail.TryGetProperty("message", out var m) ? m.GetString()
                : root.TryGetProperty("message", out var plain) ? plain.GetString()
                : root.TryGetProperty("error", out var error) ? error.GetString()
                : null;
            return (message ?? text).Split('\n')[0].Trim();
        }
        catch (JsonException)
        {
            return text.Split('\n')[0].Trim();
        }
    }

    /// <summary>
    /// After an export's tar ends there must be nothing but zeros: the daemon appends a JSON error there when an
    /// export fails after it started sending (its status is already 200). The one check both daemon paths use.
    /// </summary>
    /// <param name="tail">What followed the end-of-archive blocks (up to 64 KiB).</param>
    /// <param name="host">The daemon, for the message.</param>
    /// <exception cref="Errors.DaemonException">The tail holds an error.</exception>
    public static void ThrowIfErrorAfterExport(ReadOnlySpan<byte> tail, string host)
    {
        var text = System.Text.Encoding.UTF8.GetString(tail).Trim('\0', ' ', '\n', '\r');
        if (text.Length > 0)
        {
            throw new Errors.DaemonException($"the Docker daemon ({host}) reported an error in the middle of the export: {MessageOf(text)}");
        }
    }
}
