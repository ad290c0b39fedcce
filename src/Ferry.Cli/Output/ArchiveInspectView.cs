using System.Text.Json;
using Ferry.Inspecting;
using Ferry.Reading;
using Spectre.Console;

namespace Ferry.Cli.Output;

/// <summary>What <c>ferry inspect ARCHIVE</c> prints: a table (and, on a terminal, a chart of where the bytes go) or JSON.</summary>
internal static class ArchiveInspectView
{
    public static void WriteTable(InspectResult result)
    {
        var rows = result.Images.Select(i => new[] { TerminalText.Escape(i.Name ?? "(unnamed)"), i.Artifact is { } artifact ? TerminalText.Escape(artifact) : string.Join(",", i.Platforms), i.Digest.Short, Units.Bytes(i.Size), Units.Bytes(i.UniqueBytes), Units.Bytes(i.SharedBytes), i.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture) }).ToList();
        string[] header = ["REFERENCE", "PLATFORMS", "DIGEST", "SIZE", "OWN", "SHARED", "LAYERS"];
        var widths = header.Select((h, c) => rows.Select(r => r[c].Length).Append(h.Length).Max()).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            Console.Out.WriteLine(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }

        Console.Out.WriteLine($"{result.Images.Count} image(s); {result.UniqueBlobs} unique blobs, {Units.Bytes(result.UniqueBytes)} ({result.Format}, compression: {result.Compression})");
        Console.Out.WriteLine("OWN: bytes only that image uses; SHARED: bytes it shares with others, stored once");
        var carried = result.Images.Where(i => i.Artifacts.Count > 0).ToList();
        if (carried.Count > 0)
        {
            Console.Out.WriteLine($"SIGNATURES, ATTESTATIONS, SBOMS: {carried.Sum(i => i.Artifacts.Count)} artifact(s), {Units.Bytes(carried.Sum(i => i.Artifacts.Sum(a => a.Size)))}, go back with their images:");
            foreach (var image in carried)
            {
                Console.Out.WriteLine($"  {TerminalText.Escape(image.Name ?? image.Digest.Short)}");
                foreach (var artifact in image.Artifacts)
                {
                    var how = artifact.Tag is { } tag ? $"tag {tag[..Math.Min(tag.Length, 19)]}…{tag[tag.LastIndexOf('.')..]}" : $"referrer of {artifact.Subject.Short}";
                    Console.Out.WriteLine($"    {KindName(artifact.Kind),-11}  {artifact.Digest.Short}  {TerminalText.Escape(artifact.ArtifactType)}  {how}  {Units.Bytes(artifact.Size)}");
                }
            }
        }

        Console.Out.WriteLine(result.Signed ? "SIGNED: the bundle carries a signature over its index.json (ferry verify --key checks it)" : "UNSIGNED bundle (ferry sign adds a signature over its index.json)");
        if (result.Omitted.Count > 0)
        {
            Console.Out.WriteLine($"PARTIAL: {result.Omitted.Count} layer(s), {Units.Bytes(result.Omitted.Sum(o => o.Size))}, left out on purpose; the target must already hold them:");
            foreach (var blob in result.Omitted)
            {
                Console.Out.WriteLine($"  {blob.Digest.Short}  {Units.Bytes(blob.Size)}  from {blob.ExcludedBy}");
            }
        }
    }

    private static string KindName(Referrers.ArtifactKind kind) => kind switch
    {
        Referrers.ArtifactKind.Signature => "signature",
        Referrers.ArtifactKind.Attestation => "attestation",
        Referrers.ArtifactKind.Sbom => "sbom",
        _ => "artifact",
    };

    /// <summary>
    /// Where the archive's bytes go, as a breakdown bar on a terminal: each image's own bytes (the biggest eight; the
    /// rest together) and the bytes shared by several images, which are stored once.
    /// </summary>
    public static void WriteChart(InspectResult result)
    {
        if (result.Images.Count < 2 || result.UniqueBytes == 0)
        {
            return;
        }

        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        Color[] palette = [Color.Blue, Color.Green, Color.Yellow, Color.Aqua, Color.Fuchsia, Color.Orange1, Color.Purple, Color.Teal];
        var own = result.Images.Select(i => (Name: i.Name ?? $"(unnamed {i.Digest.Short})", Bytes: i.UniqueBytes)).Where(i => i.Bytes > 0).OrderByDescending(i => i.Bytes).ToList();
        var chart = new BreakdownChart().Width(Math.Min(100, console.Profile.Width)).UseValueFormatter((value, _) => Units.Bytes((long)value));
        foreach (var (image, i) in own.Take(8).Select((image, i) => (image, i)))
        {
            chart.AddItem(TerminalText.Escape(image.Name), image.Bytes, palette[i]);
        }

        if (own.Count > 8)
        {
            chart.AddItem($"{own.Count - 8} other image(s)", own.Skip(8).Sum(i => i.Bytes), Color.Grey);
        }

        var shared = result.UniqueBytes - own.Sum(i => i.Bytes);
        if (shared > 0)
        {
            chart.AddItem("shared by several images (stored once)", shared, Color.Silver);
        }

        console.WriteLine();
        console.Write(new Markup($"[bold]Where the {Markup.Escape(Units.Bytes(result.UniqueBytes))} go[/]"));
        console.WriteLine();
        console.Write(chart);
    }

    public static void WriteJson(InspectResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stdout, Oci.JsonFiles.Indented);
        writer.WriteStartObject();
        writer.WriteString("path", result.Path);
        writer.WriteString("format", result.Format);
        writer.WriteString("compression", result.Compression);
        writer.WriteBoolean("signed", result.Signed);
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
            if (image.Artifact is not null)
            {
                writer.WriteString("artifact", image.Artifact);
                writer.WriteString("artifactType", image.ArtifactType);
            }

            writer.WriteNumber("layers", image.Layers);
            writer.WriteNumber("size", image.Size);
            writer.WriteNumber("ownBytes", image.UniqueBytes);
            writer.WriteNumber("sharedBytes", image.SharedBytes);
            writer.WriteBoolean("builtFromLayers", image.BuiltFromLayers);
            writer.WriteStartArray("artifacts");
            foreach (var artifact in image.Artifacts)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", KindName(artifact.Kind));
                writer.WriteString("artifactType", artifact.ArtifactType);
                writer.WriteString("digest", artifact.Digest.ToString());
                writer.WriteString("subject", artifact.Subject.ToString());
                writer.WriteString("tag", artifact.Tag);
                writer.WriteNumber("size", artifact.Size);
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
}
