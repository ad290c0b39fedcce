using System.Text.Json;
using Ferry.Inspecting;

namespace Ferry.Cli.Output;

/// <summary><c>ferry verify --json</c>: the whole result as one JSON object on stdout.</summary>
internal static class VerifyView
{
    public static void WriteJson(string path, VerifyResult result)
    {
        using var stdout = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stdout, Oci.JsonFiles.Indented);
        writer.WriteStartObject();
        writer.WriteString("archive", path);
        writer.WriteBoolean("valid", result.IsValid);
        writer.WriteString("compression", result.Compression);
        writer.WriteNumber("blobs", result.Blobs);
        writer.WriteNumber("blobBytes", result.BlobBytes);
        writer.WriteNumber("artifacts", result.Artifacts);
        writer.WriteNumber("omitted", result.Omitted);
        writer.WriteStartArray("images");
        foreach (var image in result.Images)
        {
            writer.WriteStartObject();
            writer.WriteString("name", image.Name);
            writer.WriteString("digest", image.Digest.ToString());
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteStartArray("problems");
        foreach (var problem in result.Problems)
        {
            writer.WriteStringValue(problem);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("notCarried");
        foreach (var entry in result.NotCarried)
        {
            writer.WriteStartObject();
            writer.WriteString("digest", entry.Digest.ToString());
            if (entry.Platform is { } platform)
            {
                writer.WriteString("platform", platform.ToString());
            }

            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteString("bundleSignature", JsonNamingPolicy.KebabCaseLower.ConvertName(result.BundleSignature.ToString()));
        writer.WriteStartArray("signatures");
        foreach (var check in result.Signatures)
        {
            writer.WriteStartObject();
            writer.WriteString("image", check.Image);
            writer.WriteString("digest", check.Digest.ToString());
            writer.WriteBoolean("verified", check.Verified);
            writer.WriteString("detail", check.Detail);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        writer.Flush();
        stdout.WriteByte((byte)'\n');
    }
}
