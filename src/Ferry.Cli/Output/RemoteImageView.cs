using System.Globalization;
using System.Text.Json;
using Ferry.Inspecting;

namespace Ferry.Cli.Output;

/// <summary>What <c>ferry inspect IMAGE</c> prints of an image in a registry: text or JSON. Registry-supplied text is escaped.</summary>
internal static class RemoteImageView
{
    public static void WriteText(RemoteImage image)
    {
        var o = Console.Out;
        o.WriteLine(TerminalText.Escape(image.Reference.ToString()));
        o.WriteLine($"  Digest:     {image.Digest}");
        o.WriteLine($"  MediaType:  {TerminalText.Escape(image.MediaType)}");
        o.WriteLine($"  Platforms:  {image.Platforms.Count} ({Units.Bytes(image.UniqueLayerBytes)} of distinct layers)");
        foreach (var platform in image.Platforms)
        {
            var config = platform.Config;
            o.WriteLine();
            o.WriteLine($"{platform.Platform}  {platform.Digest}");
            o.WriteLine($"  Size:        {Units.Bytes(platform.LayerBytes)} in {platform.Layers.Count} layer(s)");
            Line("Created", config.Created?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
            Line("Entrypoint", config.Entrypoint.Count > 0 ? JsonArray(config.Entrypoint) : null);
            Line("Cmd", config.Cmd.Count > 0 ? JsonArray(config.Cmd) : null);
            Line("WorkingDir", config.WorkingDir);
            Line("User", config.User);
            Lines("Env", config.Env);
            Lines("Ports", config.ExposedPorts);
            Lines("Labels", config.Labels.Select(l => $"{l.Key}={l.Value}").ToList());
            o.WriteLine("  Layers:");
            foreach (var layer in platform.Layers)
            {
                o.WriteLine($"    {layer.Digest}  {Units.Bytes(layer.Size),10}");
            }
        }
    }

    public static void WriteJson(RemoteImage image)
    {
        using var stdout = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stdout, Oci.JsonFiles.Indented);
        writer.WriteStartObject();
        writer.WriteString("name", image.Reference.ToString());
        writer.WriteString("digest", image.Digest.ToString());
        writer.WriteString("mediaType", image.MediaType);
        writer.WriteNumber("layerBytes", image.UniqueLayerBytes);
        writer.WriteStartArray("platforms");
        foreach (var platform in image.Platforms)
        {
            var config = platform.Config;
            writer.WriteStartObject();
            writer.WriteString("platform", platform.Platform.ToString());
            writer.WriteString("digest", platform.Digest.ToString());
            writer.WriteString("mediaType", platform.MediaType);
            writer.WriteNumber("layerBytes", platform.LayerBytes);
            if (config.Created is { } created)
            {
                writer.WriteString("created", created);
            }

            Strings(writer, "env", config.Env);
            Strings(writer, "entrypoint", config.Entrypoint);
            Strings(writer, "cmd", config.Cmd);
            writer.WriteString("workingDir", config.WorkingDir);
            writer.WriteString("user", config.User);
            Strings(writer, "exposedPorts", config.ExposedPorts);
            writer.WriteStartObject("labels");
            foreach (var label in config.Labels)
            {
                writer.WriteString(label.Key, label.Value);
            }

            writer.WriteEndObject();
            writer.WriteStartArray("layers");
            foreach (var layer in platform.Layers)
            {
                writer.WriteStartObject();
                writer.WriteString("digest", layer.Digest.ToString());
                writer.WriteNumber("size", layer.Size);
                writer.WriteString("mediaType", layer.MediaType);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        stdout.Write("\n"u8);
    }

    /// <summary><c>["nginx","-g","daemon off;"]</c>, as docker inspect shows a command.</summary>
    private static string JsonArray(IReadOnlyList<string> values)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Oci.JsonFiles.Compact))
        {
            Strings(writer, null, values);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Line(string name, string? value)
    {
        if (value is not null)
        {
            Console.Out.WriteLine($"  {name + ":",-12} {TerminalText.Escape(value)}");
        }
    }

    private static void Lines(string name, IReadOnlyList<string> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            Console.Out.WriteLine($"  {(i == 0 ? name + ":" : string.Empty),-12} {TerminalText.Escape(values[i])}");
        }
    }

    private static void Strings(Utf8JsonWriter writer, string? name, IReadOnlyList<string> values)
    {
        if (name is null)
        {
            writer.WriteStartArray();
        }
        else
        {
            writer.WriteStartArray(name);
        }

        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
