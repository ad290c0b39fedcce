using System.CommandLine;
using System.Text.Json;
using Ferry.Cli.Output;
using Ferry.Reading;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry inspect</c>: the images of an archive, as a table or JSON.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var archive = new Argument<string>("archive") { Description = "Any archive Ferry reads (tar, tar.gz, tar.zst, directory; Ferry, docker, podman, skopeo, crane); - reads stdin" };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var command = new Command("inspect", """
            Show what an archive holds: reference, platforms, manifest digest, size and layers of each image, and the
            archive's unique content (blobs shared by images counted once).

            Examples:
              ferry inspect bundle.tar
              ferry inspect bundle.tar --json | jq '.images[].name'
              ferry inspect - < bundle.tar
            """)
        {
            archive, json,
        };
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                reading.Apply(parseResult);
                var path = parseResult.GetValue(archive)!;
                var result = path == "-"
                    ? await ArchiveInspector.InspectAsync(StdinArchive.Open(), "stdin", cancellationToken).ConfigureAwait(false)
                    : await ArchiveInspector.InspectAsync(path, cancellationToken).ConfigureAwait(false);
                if (parseResult.GetValue(json))
                {
                    WriteJson(result);
                }
                else
                {
                    WriteTable(result);
                }

                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false);
            }
        });
        return command;
    }

    private static void WriteTable(InspectResult result)
    {
        var rows = result.Images.Select(i => new[] { TerminalText.Escape(i.Name ?? "(unnamed)"), string.Join(",", i.Platforms), i.Digest.Short, Units.Bytes(i.Size), i.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToList();
        string[] header = ["REFERENCE", "PLATFORMS", "DIGEST", "SIZE", "LAYERS"];
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }

        Console.Out.WriteLine($"{result.Images.Count} image(s); {result.UniqueBlobs} unique blobs, {Units.Bytes(result.UniqueBytes)} ({result.Format}, compression: {result.Compression})");
        if (result.Omitted.Count > 0)
        {
            Console.Out.WriteLine($"PARTIAL: {result.Omitted.Count} layer(s), {Units.Bytes(result.Omitted.Sum(o => o.Size))}, left out on purpose; the target must already hold them:");
            foreach (var blob in result.Omitted)
            {
                Console.Out.WriteLine($"  {blob.Digest.Short}  {Units.Bytes(blob.Size)}  from {blob.ExcludedBy}");
            }
        }
    }

    private static void WriteJson(InspectResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stdout, Oci.JsonFiles.Indented);
        writer.WriteStartObject();
        writer.WriteString("path", result.Path);
        writer.WriteString("format", result.Format);
        writer.WriteString("compression", result.Compression);
        writer.WriteNumber("uniqueBlobs", result.UniqueBlobs);
        writer.WriteNumber("uniqueBytes", result.UniqueBytes);
        writer.WriteBoolean("partial", result.Omitted.Count > 0);
        writer.WriteStartArray("omitted");
        foreach (var blob in result.Omitted)
        {
            writer.WriteStartObject();
            writer.WriteString("digest", blob.Digest.ToString());
            writer.WriteNumber("size", blob.Size);
            if (blob.DiffId is { } diffId)
            {
                writer.WriteString("diffID", diffId.ToString());
            }

            writer.WriteString("excludedBy", blob.ExcludedBy);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("images");
        foreach (var image in result.Images)
        {
            writer.WriteStartObject();
            writer.WriteString("name", image.Name);
            writer.WriteString("digest", image.Digest.ToString());
            writer.WriteString("mediaType", image.MediaType);
            writer.WriteStartArray("platforms");
            foreach (var platform in image.Platforms)
            {
                writer.WriteStringValue(platform);
            }

            writer.WriteEndArray();
            writer.WriteNumber("layers", image.Layers);
            writer.WriteNumber("size", image.Size);
            writer.WriteBoolean("builtFromLayers", image.BuiltFromLayers);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        stdout.Write("\n"u8);
    }
}
