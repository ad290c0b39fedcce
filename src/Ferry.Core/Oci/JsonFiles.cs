using System.Text.Encodings.Web;
using System.Text.Json;

namespace Ferry.Oci;

/// <summary>
/// How Ferry writes JSON files (index.json, manifests it builds, subset indexes, manifest.json, the partial record):
/// plain UTF-8 as docker, skopeo and crane write it — <c>+</c> stays <c>+</c>, not <c>\u002B</c> as System.Text.Json's
/// default encoder would write; control characters are still escaped.
/// </summary>
public static class JsonFiles
{
    /// <summary>Compact output.</summary>
    public static JsonWriterOptions Compact { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Indented output (files people read).</summary>
    public static JsonWriterOptions Indented { get; } = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = true };
}
