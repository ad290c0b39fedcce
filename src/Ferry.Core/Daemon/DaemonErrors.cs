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
}
