using System.Text.Json;
using Ferry.Errors;
using Ferry.References;

namespace Ferry.Oci;

/// <summary>The parts of an image config Ferry needs: its platform and its diffIDs (the one config reader).</summary>
/// <param name="Platform">The platform the config declares.</param>
/// <param name="DiffIds">The <c>rootfs.diff_ids</c>, base layer first.</param>
public sealed record ImageConfigInfo(Platform Platform, IReadOnlyList<Digest> DiffIds)
{
    /// <summary>The number of <c>rootfs.diff_ids</c>.</summary>
    public int DiffIdCount => DiffIds.Count;

    /// <summary>Reads the platform and diffID count from config bytes.</summary>
    /// <param name="content">The config JSON.</param>
    /// <param name="what">A name for error messages.</param>
    /// <returns>The extracted information.</returns>
    /// <exception cref="InvalidInputException">The config is not valid JSON.</exception>
    public static ImageConfigInfo Parse(ReadOnlySpan<byte> content, string what)
    {
        try
        {
            var reader = new Utf8JsonReader(content, new JsonReaderOptions { MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidInputException($"config of {what} is not a JSON object");
            }

            string Text(string name) => root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() ?? string.Empty : string.Empty;
            var diffIds = root.TryGetProperty("rootfs", out var rootfs) && rootfs.ValueKind == JsonValueKind.Object &&
                          rootfs.TryGetProperty("diff_ids", out var ids) && ids.ValueKind == JsonValueKind.Array
                ? ids.EnumerateArray().Select(id => Digest.TryParse(id.ValueKind == JsonValueKind.String ? id.GetString() : null, out var d) ? d : throw new InvalidInputException($"config of {what} has a malformed diff_id")).ToList()
                : [];
            var variant = Text("variant");
            return new ImageConfigInfo(new Platform(Text("os"), Text("architecture"), variant.Length == 0 ? null : variant), diffIds);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"config of {what} is not valid JSON: {ex.Message}");
        }
    }
}
