using System.Text.Json;

namespace Ferry.Oci;

/// <summary>What an artifact (a manifest whose config is not an image config) is, in a few words for a listing.</summary>
public static class ArtifactDescription
{
    /// <summary>The config media type <c>helm push</c> writes.</summary>
    public const string HelmConfig = "application/vnd.cncf.helm.config.v1+json";

    /// <summary>The artifact's type: the manifest's <c>artifactType</c>, else its config's media type.</summary>
    /// <param name="manifest">The artifact's manifest.</param>
    /// <returns>The type.</returns>
    public static string TypeOf(ManifestDocument manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return manifest.ArtifactType ?? manifest.Config?.MediaType ?? manifest.MediaType;
    }

    /// <summary>
    /// <c>helm chart mychart 0.1.0</c> for a Helm chart (its config's name and version), else the artifact's type; a
    /// config that does not parse leaves the type alone.
    /// </summary>
    /// <param name="manifest">The artifact's manifest.</param>
    /// <param name="config">Its config's bytes (verified).</param>
    /// <returns>The description.</returns>
    public static string Describe(ManifestDocument manifest, ReadOnlySpan<byte> config)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (manifest.Config?.MediaType == HelmConfig)
        {
            try
            {
                var reader = new Utf8JsonReader(config);
                using var document = JsonDocument.ParseValue(ref reader);
                if (document.RootElement.ValueKind == JsonValueKind.Object &&
                    document.RootElement.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String &&
                    document.RootElement.TryGetProperty("version", out var version) && version.ValueKind == JsonValueKind.String)
                {
                    return $"helm chart {name.GetString()} {version.GetString()}";
                }
            }
            catch (JsonException)
            {
                // Not the config Helm writes: the type says what it is.
            }
        }

        return TypeOf(manifest);
    }
}
