using System.Text.Json;

namespace Ferry.Cli.Output;

/// <summary>
/// <c>--progress json</c>: one JSON object per line on stderr for every event, the final summary and a fatal error
/// alike (schema in docs/save.md). Whether a command reports so is its <see cref="OutputMode"/>.
/// </summary>
internal static class JsonLines
{
    private static readonly Lock Gate = new();

    /// <summary>A failure kind as JSON names it: <c>not-found</c>, <c>platform-not-found</c>, <c>digest-mismatch</c>, ….</summary>
    public static string Name(Transfer.FailureKind kind) => JsonNamingPolicy.KebabCaseLower.ConvertName(kind.ToString());

    /// <summary>Writes <c>{"event": name, …fields}</c> as one line.</summary>
    public static void Write(string name, Action<Utf8JsonWriter> fields)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Oci.JsonFiles.Compact))
        {
            writer.WriteStartObject();
            writer.WriteString("event", name);
            fields(writer);
            writer.WriteEndObject();
        }

        lock (Gate)
        {
            Console.Error.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
        }
    }
}
