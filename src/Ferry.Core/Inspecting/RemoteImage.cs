using System.Globalization;
using System.Text.Json;
using Ferry.Content;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Inspecting;

/// <summary>An image in a registry as <see cref="Images.InspectImageAsync"/> describes it: manifests and configs, no layers downloaded.</summary>
/// <param name="Reference">The image as asked for.</param>
/// <param name="Digest">The digest of its top manifest (an index for multi-platform images).</param>
/// <param name="MediaType">The top manifest's media type.</param>
/// <param name="Platforms">Each platform image (the one image for a single-platform manifest).</param>
public sealed record RemoteImage(ImageReference Reference, Digest Digest, string MediaType, IReadOnlyList<RemotePlatformImage> Platforms)
{
    /// <summary>Bytes of the distinct layers of every platform: what a save of them all downloads.</summary>
    public long UniqueLayerBytes => Platforms.SelectMany(p => p.Layers).DistinctBy(l => l.Digest).Sum(l => l.Size);

    /// <inheritdoc />
    public override string ToString() => $"{Reference}@{Digest.Short} ({Platforms.Count} platform(s), {UniqueLayerBytes} bytes of layers)";
}

/// <summary>One platform image of a <see cref="RemoteImage"/>.</summary>
/// <param name="Platform">Its platform, from the config.</param>
/// <param name="Digest">Its manifest's digest.</param>
/// <param name="MediaType">Its manifest's media type.</param>
/// <param name="Layers">Its layers, as the manifest lists them.</param>
/// <param name="Config">What its config says.</param>
public sealed record RemotePlatformImage(Platform Platform, Digest Digest, string MediaType, IReadOnlyList<Descriptor> Layers, ImageConfigSummary Config)
{
    /// <summary>The layers' bytes, as stored (compressed).</summary>
    public long LayerBytes => Layers.Sum(l => l.Size);

    /// <inheritdoc />
    public override string ToString() => $"{Platform} {Digest.Short} ({Layers.Count} layer(s), {LayerBytes} bytes)";
}

/// <summary>What an image config says about running the image (empty for artifacts whose config is not an image config).</summary>
/// <param name="Created">When it was built.</param>
/// <param name="Env">Environment, <c>NAME=value</c>.</param>
/// <param name="Entrypoint">The entrypoint.</param>
/// <param name="Cmd">The default command.</param>
/// <param name="WorkingDir">The working directory.</param>
/// <param name="User">The user.</param>
/// <param name="ExposedPorts">Exposed ports, <c>80/tcp</c>.</param>
/// <param name="Labels">Labels.</param>
public sealed record ImageConfigSummary(
    DateTimeOffset? Created,
    IReadOnlyList<string> Env,
    IReadOnlyList<string> Entrypoint,
    IReadOnlyList<string> Cmd,
    string? WorkingDir,
    string? User,
    IReadOnlyList<string> ExposedPorts,
    IReadOnlyDictionary<string, string> Labels)
{
    /// <summary>Reads the run settings of a config; fields it lacks (or a config that is not JSON) read as empty.</summary>
    /// <param name="config">The config blob.</param>
    /// <returns>The summary.</returns>
    public static ImageConfigSummary Parse(ReadOnlySpan<byte> config)
    {
        try
        {
            using var document = JsonDocument.Parse(config.ToArray());
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return Empty;
            }

            var created = root.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(c.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when : (DateTimeOffset?)null;
            var run = root.TryGetProperty("config", out var r) && r.ValueKind == JsonValueKind.Object ? r : default;
            return new ImageConfigSummary(
                created,
                Strings(run, "Env"),
                Strings(run, "Entrypoint"),
                Strings(run, "Cmd"),
                Text(run, "WorkingDir"),
                Text(run, "User"),
                run.ValueKind == JsonValueKind.Object && run.TryGetProperty("ExposedPorts", out var ports) && ports.ValueKind == JsonValueKind.Object ? [.. ports.EnumerateObject().Select(p => p.Name)] : [],
                run.ValueKind == JsonValueKind.Object && run.TryGetProperty("Labels", out var labels) && labels.ValueKind == JsonValueKind.Object
                    ? labels.EnumerateObject().Where(l => l.Value.ValueKind == JsonValueKind.String).ToDictionary(l => l.Name, l => l.Value.GetString()!, StringComparer.Ordinal)
                    : new Dictionary<string, string>(StringComparer.Ordinal));
        }
        catch (JsonException)
        {
            return Empty;
        }
    }

    private static ImageConfigSummary Empty { get; } = new(null, [], [], [], null, null, [], new Dictionary<string, string>(StringComparer.Ordinal));

    private static string[] Strings(JsonElement run, string name) =>
        run.ValueKind == JsonValueKind.Object && run.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? [.. value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!)]
            : [];

    private static string? Text(JsonElement run, string name) =>
        run.ValueKind == JsonValueKind.Object && run.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text ? text : null;
}
