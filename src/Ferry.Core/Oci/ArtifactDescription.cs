using System.Text.Json;

namespace Ferry.Oci;

/// <summary>What an artifact (a manifest whose config is not an image config) is, in a few words for a listing.</summary>
public static class ArtifactDescription
{
    /// <summary>The annotation that names a layer's file (<c>oras pull</c> writes the layer under it).</summary>
    public const string TitleAnnotation = "org.opencontainers.image.title";

    /// <summary>The artifact type <c>oras push</c> writes when none is given.</summary>
    public const string UnknownArtifactType = "application/vnd.unknown.artifact.v1";

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

        if (TypeOf(manifest) == UnknownArtifactType && Titles(manifest) is { Count: > 0 } titles)
        {
            // Plain files (oras push, ferry save --add-file): what they are is their names.
            return (titles.Count == 1 ? "file " : "files ") + string.Join(", ", titles.Take(3)) + (titles.Count > 3 ? ", …" : string.Empty);
        }

        return TypeOf(manifest);
    }

    /// <summary>The file names the layers' title annotations give (<c>oras push</c>'s layout).</summary>
    private static List<string> Titles(ManifestDocument manifest)
    {
        try
        {
            using var document = JsonDocument.Parse(manifest.Content);
            return document.RootElement.TryGetProperty("layers", out var layers) && layers.ValueKind == JsonValueKind.Array
                ? [.. layers.EnumerateArray().Where(l => l.ValueKind == JsonValueKind.Object).Select(l => ManifestDocument.ReadAnnotations(l).GetValueOrDefault(TitleAnnotation)).OfType<string>()]
                : [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
