using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Archives.Format;

/// <summary>One entry of an archive's <c>index.json</c>: the descriptor and the image name it carries, if any.</summary>
/// <param name="Descriptor">The manifest or index it points at.</param>
/// <param name="Name">A full image reference from its annotations, or <see langword="null"/>.</param>
public sealed record OciIndexEntry(Descriptor Descriptor, string? Name)
{
    /// <summary>For an artifact (signature, attestation, SBOM…) carried with an image: whose it is; <see langword="null"/> for an image.</summary>
    public ArtifactLink? Artifact { get; init; }
}

/// <summary>Where an artifact in an archive belongs: the repository and manifest it refers to, and the tag it had.</summary>
/// <param name="Repository">The image's repository, in full (<c>registry/path</c>) as the archive names the image.</param>
/// <param name="Subject">The digest of the manifest it refers to.</param>
/// <param name="Tag">Its tag in that repository (cosign's <c>sha256-&lt;hex&gt;.sig</c>…), or <see langword="null"/> for a referrer by digest.</param>
public sealed record ArtifactLink(string Repository, Digest Subject, string? Tag);

/// <summary>
/// The one reader and writer of an OCI layout's <c>index.json</c>. Names come from <c>io.containerd.image.name</c>,
/// else from an <c>org.opencontainers.image.ref.name</c> that is a full reference (a tag alone, as the OCI spec
/// allows, names no repository). <c>"manifests": null</c> (Docker 25+ saving an untagged image) reads as no entries.
/// </summary>
public static class OciIndexFile
{
    /// <summary>The file's name.</summary>
    public const string FileName = "index.json";

    /// <summary>containerd's (and Docker 25's) image-name annotation.</summary>
    public const string ImageNameAnnotation = "io.containerd.image.name";

    /// <summary>The OCI reference-name annotation.</summary>
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    /// <summary>Ferry's annotation on an artifact entry: the full repository of the image it belongs to.</summary>
    public const string ArtifactRepositoryAnnotation = "dev.ferry.artifact.repository";

    /// <summary>Ferry's annotation on an artifact entry: the digest of the manifest it refers to.</summary>
    public const string ArtifactSubjectAnnotation = "dev.ferry.artifact.subject";

    /// <summary>Ferry's annotation on an artifact entry: the tag it had (cosign's scheme).</summary>
    public const string ArtifactTagAnnotation = "dev.ferry.artifact.tag";

    /// <summary>Reads the entries.</summary>
    /// <param name="json">The file's bytes.</param>
    /// <param name="where">The archive, for messages.</param>
    /// <returns>The entries in file order (empty for <c>"manifests": null</c>).</returns>
    /// <exception cref="InvalidInputException">Malformed.</exception>
    public static IReadOnlyList<OciIndexEntry> Read(ReadOnlyMemory<byte> json, string where)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidInputException($"{where}: {FileName} is not a JSON object");
            }

            if (!root.TryGetProperty("manifests", out var manifests) || manifests.ValueKind == JsonValueKind.Null)
            {
                return [];
            }

            if (manifests.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidInputException($"{where}: {FileName} has a \"manifests\" that is not an array");
            }

            var index = ManifestDocument.Parse(json, MediaTypes.OciIndex, $"{where}: {FileName}");
            var entries = new List<OciIndexEntry>();
            var i = 0;
            foreach (var entry in manifests.EnumerateArray())
            {
                var link = LinkOf(entry, where);
                entries.Add(new OciIndexEntry(index.Manifests[i++], link is null ? NameOf(entry) : null) { Artifact = link });
            }

            return entries;
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{where}: {FileName} is not valid JSON: {ex.Message}");
        }
    }

    /// <summary>Writes an index with one entry per image, both name annotations set to the full reference, then one per artifact (unnamed, so other tools see no image there).</summary>
    /// <param name="entries">The descriptors and names, in order.</param>
    /// <returns>The file's bytes (compact, deterministic).</returns>
    public static byte[] Build(IEnumerable<OciIndexEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return ManifestWriter.Index(entries.Select(e => new IndexEntry(e.Descriptor, null, AnnotationsOf(e))));
    }

    private static List<KeyValuePair<string, string>> AnnotationsOf(OciIndexEntry entry)
    {
        if (entry.Artifact is { } link)
        {
            List<KeyValuePair<string, string>> annotations = [new(ArtifactRepositoryAnnotation, link.Repository), new(ArtifactSubjectAnnotation, link.Subject.ToString())];
            if (link.Tag is not null)
            {
                annotations.Add(new(ArtifactTagAnnotation, link.Tag));
            }

            return annotations;
        }

        return entry.Name is { } name ? [new(ImageNameAnnotation, name), new(RefNameAnnotation, name)] : [];
    }

    private static ArtifactLink? LinkOf(JsonElement entry, string where)
    {
        var annotations = ManifestDocument.ReadAnnotations(entry);
        if (!annotations.TryGetValue(ArtifactRepositoryAnnotation, out var repository) || !annotations.TryGetValue(ArtifactSubjectAnnotation, out var subject))
        {
            return null;
        }

        if (!Digest.TryParse(subject, out var digest) || !ImageReference.TryParse(repository, out var parsed, out _) || parsed!.Digest is not null)
        {
            throw new InvalidInputException($"{where}: {FileName} has an artifact entry with an invalid repository or subject");
        }

        // The tag becomes part of a registry URL on load: only cosign's own scheme, for this subject, is accepted.
        var tag = annotations.GetValueOrDefault(ArtifactTagAnnotation);
        if (tag is not null && (!Referrers.ReferrerArtifact.TryParseCosignTag(tag, out var tagged) || tagged != digest))
        {
            throw new InvalidInputException($"{where}: {FileName} gives an artifact the tag \"{new string(tag.Where(c => !char.IsControl(c)).Take(80).ToArray())}\", which is not cosign's tag for its subject");
        }

        return new ArtifactLink(parsed.Name, digest, tag);
    }

    private static string? NameOf(JsonElement entry)
    {
        string? Annotation(string key) => entry.TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object &&
                                          a.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var name = Annotation(ImageNameAnnotation) ?? Annotation(RefNameAnnotation);
        return name is not null && (name.Contains('/', StringComparison.Ordinal) || name.Contains(':', StringComparison.Ordinal)) ? name : null;
    }
}
