using System.Text.Json;
using Ferry.Errors;
using Ferry.References;

namespace Ferry.Oci;

/// <summary>
/// A parsed manifest or index, kept together with the exact bytes it was parsed from (those bytes are what
/// Ferry stores, so digests survive). Parsing rejects ambiguous documents: duplicate keys, or both
/// <c>manifests</c> and <c>layers</c> (image-spec considerations, CVE-2021-41190).
/// </summary>
public sealed class ManifestDocument
{
    private static readonly JsonDocumentOptions StrictOptions = new() { AllowDuplicateProperties = false, MaxDepth = 64 };

    private ManifestDocument(ReadOnlyMemory<byte> content, Digest digest, string mediaType, Descriptor? config, IReadOnlyList<Descriptor> layers, IReadOnlyList<Descriptor> manifests)
    {
        Content = content;
        Digest = digest;
        MediaType = mediaType;
        Config = config;
        Layers = layers;
        Manifests = manifests;
    }

    /// <summary>The manifest this one refers to (OCI 1.1 <c>subject</c>: a signature, attestation or SBOM names its image); <see langword="null"/> when none.</summary>
    public Descriptor? Subject { get; private init; }

    /// <summary>The OCI 1.1 <c>artifactType</c>, when the document sets one.</summary>
    public string? ArtifactType { get; private init; }

    /// <summary>The document's own <c>annotations</c> (string values only).</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; private init; } = new Dictionary<string, string>();

    /// <summary>The exact bytes of the document.</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>The sha256 digest of <see cref="Content"/>.</summary>
    public Digest Digest { get; }

    /// <summary>The media type of the document.</summary>
    public string MediaType { get; }

    /// <summary>Whether this is an index / manifest list.</summary>
    public bool IsIndex => MediaTypes.IsIndex(MediaType);

    /// <summary>The config descriptor of an image manifest; <see langword="null"/> for an index.</summary>
    public Descriptor? Config { get; }

    /// <summary>The layers of an image manifest, in order; empty for an index.</summary>
    public IReadOnlyList<Descriptor> Layers { get; }

    /// <summary>The entries of an index; empty for an image manifest.</summary>
    public IReadOnlyList<Descriptor> Manifests { get; }

    /// <summary>This document as a descriptor.</summary>
    public Descriptor Descriptor => new(MediaType, Digest, Content.Length);

    /// <summary>The largest blob a descriptor may declare (1 PiB): beyond it a size is hostile or corrupt, never real.</summary>
    public const long MaxBlobSize = 1L << 50;

    /// <summary>Parses a manifest or index.</summary>
    /// <param name="content">The exact bytes.</param>
    /// <param name="headerMediaType">The Content-Type the registry sent, used when the document has no <c>mediaType</c>.</param>
    /// <param name="what">A name for error messages, e.g. the reference.</param>
    /// <returns>The parsed document.</returns>
    /// <exception cref="UnsupportedContentException">Schema 1 or an unknown kind of document.</exception>
    /// <exception cref="InvalidInputException">The document is malformed or ambiguous.</exception>
    public static ManifestDocument Parse(ReadOnlyMemory<byte> content, string? headerMediaType, string what)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content, StrictOptions);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"manifest of {what} is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidInputException($"manifest of {what} is not a JSON object");
            }

            var schemaVersion = root.TryGetProperty("schemaVersion", out var sv) && sv.ValueKind == JsonValueKind.Number ? sv.GetInt32() : 0;
            var mediaType = root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
            if (schemaVersion == 1 || MediaTypes.IsSchema1(mediaType) || MediaTypes.IsSchema1(headerMediaType))
            {
                throw new UnsupportedContentException($"{what} uses Docker image manifest schema 1, an unsupported, deprecated format; re-push it with a current docker or skopeo");
            }

            if (schemaVersion != 2)
            {
                throw new InvalidInputException($"manifest of {what} has unsupported schemaVersion {schemaVersion}");
            }

            var hasManifests = root.TryGetProperty("manifests", out var manifestsElement);
            var hasLayers = root.TryGetProperty("layers", out var layersElement);
            if (hasManifests && (hasLayers || root.TryGetProperty("config", out _)))
            {
                throw new InvalidInputException($"manifest of {what} is ambiguous: it has both \"manifests\" and \"layers\"/\"config\"");
            }

            mediaType ??= headerMediaType is not null && (MediaTypes.IsIndex(headerMediaType) || MediaTypes.IsImageManifest(headerMediaType))
                ? headerMediaType
                : hasManifests ? MediaTypes.OciIndex : MediaTypes.OciManifest;

            var digest = Digest.Sha256Of(content.Span);
            if (MediaTypes.IsIndex(mediaType))
            {
                if (!hasManifests || manifestsElement.ValueKind != JsonValueKind.Array)
                {
                    throw new InvalidInputException($"index of {what} has no \"manifests\" array");
                }

                var entries = manifestsElement.EnumerateArray().Select(e => ReadDescriptor(e, what, withPlatform: true)).ToList();
                return new ManifestDocument(content, digest, mediaType, null, [], entries) { Subject = ReadSubject(root, what), ArtifactType = ReadArtifactType(root), Annotations = ReadAnnotations(root) };
            }

            if (!MediaTypes.IsImageManifest(mediaType))
            {
                throw new UnsupportedContentException($"{what} has unsupported manifest media type \"{mediaType}\"");
            }

            if (!root.TryGetProperty("config", out var configElement))
            {
                throw new InvalidInputException($"manifest of {what} has no config");
            }

            var config = ReadDescriptor(configElement, what, withPlatform: false);
            var layers = hasLayers && layersElement.ValueKind == JsonValueKind.Array
                ? layersElement.EnumerateArray().Select(e => ReadDescriptor(e, what, withPlatform: false)).ToList()
                : throw new InvalidInputException($"manifest of {what} has no \"layers\" array");
            return new ManifestDocument(content, digest, mediaType, config, layers, []) { Subject = ReadSubject(root, what), ArtifactType = ReadArtifactType(root), Annotations = ReadAnnotations(root) };
        }
    }

    /// <summary>The string-valued entries of an element's <c>annotations</c> object (none when absent or malformed).</summary>
    /// <param name="element">A manifest, index or descriptor.</param>
    /// <returns>The annotations.</returns>
    internal static Dictionary<string, string> ReadAnnotations(JsonElement element)
    {
        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in a.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
            {
                annotations[property.Name] = property.Value.GetString()!;
            }
        }

        return annotations;
    }

    private static Descriptor? ReadSubject(JsonElement root, string what) =>
        root.TryGetProperty("subject", out var subject) && subject.ValueKind == JsonValueKind.Object ? ReadDescriptor(subject, what, withPlatform: false) : null;

    private static string? ReadArtifactType(JsonElement root) =>
        root.TryGetProperty("artifactType", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    private static Descriptor ReadDescriptor(JsonElement element, string what, bool withPlatform)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidInputException($"manifest of {what} has a descriptor that is not an object");
        }

        var mediaType = element.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() ?? string.Empty : string.Empty;
        var digestText = element.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        if (!Digest.TryParse(digestText, out var digest))
        {
            throw new InvalidInputException($"manifest of {what} has an invalid digest \"{digestText}\"");
        }

        if (!element.TryGetProperty("size", out var s) || s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var size) || size < 0)
        {
            throw new InvalidInputException($"manifest of {what} has a descriptor {digest} without a valid size");
        }

        if (size > MaxBlobSize)
        {
            throw new InvalidInputException($"manifest of {what} declares blob {digest.Short} of {size} bytes, more than any real blob (the limit is {MaxBlobSize} bytes); refused");
        }

        Platform? platform = null;
        if (withPlatform && element.TryGetProperty("platform", out var p) && p.ValueKind == JsonValueKind.Object)
        {
            var os = p.TryGetProperty("os", out var o) && o.ValueKind == JsonValueKind.String ? o.GetString() ?? string.Empty : string.Empty;
            var arch = p.TryGetProperty("architecture", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() ?? string.Empty : string.Empty;
            var variant = p.TryGetProperty("variant", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            platform = new Platform(os, arch, variant);
        }

        return new Descriptor(mediaType, digest, size, platform);
    }
}
