using System.Text;

namespace Ferry.Cli.Output;

/// <summary>
/// Text from outside (registry error bodies, names and annotations in archives, daemon messages, header values)
/// made safe for a terminal: control characters (C0, DEL, C1 — ESC sequences, carriage returns, forged newlines)
/// are shown escaped (<c>\x1b</c>, <c>\r</c>, <c>\n</c>), never interpreted.
/// </summary>
internal static class TerminalText
{
    public static string Escape(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Any(IsControl))
        {
            return text ?? string.Empty;
        }

        var escaped = new StringBuilder(text.Length + 8);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }

    private static bool IsControl(char c) => c < 0x20 || c is >= '\x7f' and <= '\x9f';
}
