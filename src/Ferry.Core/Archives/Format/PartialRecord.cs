using System.Text.Json;
using Ferry.Errors;
using Ferry.References;

namespace Ferry.Archives.Format;

/// <summary>A layer a partial (delta) archive leaves out, and why.</summary>
/// <param name="Digest">Its digest.</param>
/// <param name="Size">Its size.</param>
/// <param name="MediaType">Its media type.</param>
/// <param name="DiffId">Its uncompressed digest, when known.</param>
/// <param name="ExcludedBy">The excluded image or archive that holds it, as the user named it.</param>
public sealed record OmittedBlob(Digest Digest, long Size, string MediaType, Digest? DiffId, string ExcludedBy)
{
    /// <summary>The name of the excluded image that holds the layer (a full reference), when known: where a delta load looks for it.</summary>
    public string? ExcludedImage { get; init; }
}

/// <summary>
/// The one reader and writer of <c>ferry-partial.json</c>, the file that makes an archive partial: every layer left
/// out, with its digest, size, media type, diff_id and the excluded image it comes from.
/// </summary>
public static class PartialRecord
{
    /// <summary>The file's name.</summary>
    public const string FileName = "ferry-partial.json";

    /// <summary>Writes the record.</summary>
    /// <param name="omitted">The layers left out.</param>
    /// <returns>The file's bytes (indented: people read it).</returns>
    public static byte[] Build(IReadOnlyList<OmittedBlob> omitted)
    {
        ArgumentNullException.ThrowIfNull(omitted);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Oci.JsonFiles.Indented))
        {
            writer.WriteStartObject();
            writer.WriteNumber("version", 1);
            writer.WriteStartArray("omitted");
            foreach (var blob in omitted)
            {
                writer.WriteStartObject();
                writer.WriteString("digest", blob.Digest.ToString());
                writer.WriteNumber("size", blob.Size);
                writer.WriteString("mediaType", blob.MediaType);
                if (blob.DiffId is { } diffId)
                {
                    writer.WriteString("diffID", diffId.ToString());
                }

                writer.WriteString("excludedBy", blob.ExcludedBy);
                if (blob.ExcludedImage is { } image)
                {
                    writer.WriteString("excludedImage", image);
                }

                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>Reads the record.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="where">The archive, for messages.</param>
    /// <returns>The omitted layers.</returns>
    /// <exception cref="InvalidInputException">Malformed.</exception>
    public static IReadOnlyList<OmittedBlob> Read(ReadOnlyMemory<byte> json, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 16 });
            var result = new List<OmittedBlob>();
            foreach (var entry in document.RootElement.GetProperty("omitted").EnumerateArray())
            {
                string? Text(string key) => entry.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                var digest = Digest.TryParse(Text("digest"), out var d) ? d : throw new InvalidInputException($"{where}: {FileName} has an entry without a valid digest");
                var size = entry.TryGetProperty("size", out var s) && s.TryGetInt64(out var n) && n >= 0 ? n : throw new InvalidInputException($"{where}: {FileName} has an entry without a valid size");
                Digest? diffId = Digest.TryParse(Text("diffID"), out var parsed) ? parsed : null;
                result.Add(new OmittedBlob(digest, size, Text("mediaType") ?? string.Empty, diffId, Text("excludedBy") ?? string.Empty) { ExcludedImage = Text("excludedImage") });
            }

            return result;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new InvalidInputException($"{where}: {FileName} is malformed: {ex.Message}");
        }
    }
}
