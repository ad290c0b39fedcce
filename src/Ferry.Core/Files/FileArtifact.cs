using System.Text;
using System.Text.Json;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Files;

/// <summary>
/// A plain file (an ISO, a binary, a Helm chart <c>.tgz</c>, a values file) carried as an OCI artifact, laid out as
/// <c>oras push</c> lays it out: an image manifest with <c>artifactType</c>, the empty config (<c>{}</c>) and one layer —
/// the file's bytes unchanged — whose <c>org.opencontainers.image.title</c> annotation is the file's name, so that
/// <c>oras pull</c> and <c>ferry extract</c> write it back. Unlike oras, no creation time is written: the same file
/// under the same name always has the same digest, so a re-run save is up to date.
/// </summary>
/// <param name="Path">The file.</param>
/// <param name="Name">The artifact's name (<c>registry/repository:tag</c>).</param>
/// <param name="MediaType">The layer's media type.</param>
public sealed record FileArtifact(string Path, ImageReference Name, string MediaType)
{
    /// <summary>The annotation that names a layer's file (<c>oras pull</c> writes the layer under it).</summary>
    public const string TitleAnnotation = ArtifactDescription.TitleAnnotation;

    /// <summary>oras' artifact type when none is given.</summary>
    public const string DefaultArtifactType = ArtifactDescription.UnknownArtifactType;

    /// <summary>The OCI empty descriptor's media type (the config of an artifact without one).</summary>
    public const string EmptyMediaType = "application/vnd.oci.empty.v1+json";

    /// <summary>oras' layer media type for a file when none is given.</summary>
    public const string DefaultLayerMediaType = "application/vnd.oci.image.layer.v1.tar";

    private static readonly Dictionary<string, string> ByExtension = new(StringComparer.OrdinalIgnoreCase)
    {
        [".tgz"] = "application/vnd.oci.image.layer.v1.tar+gzip",
        [".tar.gz"] = "application/vnd.oci.image.layer.v1.tar+gzip",
        [".tar"] = "application/vnd.oci.image.layer.v1.tar",
        [".tar.zst"] = "application/vnd.oci.image.layer.v1.tar+zstd",
        [".gz"] = "application/gzip",
        [".zip"] = "application/zip",
        [".iso"] = "application/x-iso9660-image",
        [".json"] = "application/json",
        [".yaml"] = "application/yaml",
        [".yml"] = "application/yaml",
        [".txt"] = "text/plain",
        [".md"] = "text/markdown",
        [".sh"] = "application/x-sh",
        [".pem"] = "application/x-pem-file",
        [".crt"] = "application/x-x509-ca-cert",
        [".wasm"] = "application/wasm",
        [".pdf"] = "application/pdf",
        [".rpm"] = "application/x-rpm",
        [".deb"] = "application/vnd.debian.binary-package",
    };

    /// <summary>The bytes of the empty config, <c>{}</c>.</summary>
    public static ReadOnlyMemory<byte> EmptyConfig { get; } = "{}"u8.ToArray();

    /// <summary>The empty config's descriptor.</summary>
    public static Descriptor EmptyDescriptor { get; } = new(EmptyMediaType, Digest.Sha256Of(EmptyConfig.Span), 2);

    /// <summary>The file's name as the title annotation records it (its last path component).</summary>
    public string Title => System.IO.Path.GetFileName(Path);

    /// <summary>
    /// Reads <c>PATH[:NAME:TAG]</c> (<c>--add-file</c>): the file and, after the first colon that ends an existing
    /// file's path, the artifact's name; without one, <c>files/&lt;file name&gt;:latest</c>.
    /// </summary>
    /// <param name="spec">What was given.</param>
    /// <param name="mediaType">The layer's media type (<c>--file-type</c>), or <see langword="null"/> to choose by extension.</param>
    /// <returns>The artifact.</returns>
    /// <exception cref="InvalidInputException">The file does not exist, or the name is not a reference.</exception>
    public static FileArtifact Parse(string spec, string? mediaType = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(spec);
        var path = spec;
        string? name = null;
        if (!File.Exists(spec))
        {
            for (var colon = spec.IndexOf(':', StringComparison.Ordinal); colon > 0; colon = spec.IndexOf(':', colon + 1))
            {
                if (File.Exists(spec[..colon]))
                {
                    (path, name) = (spec[..colon], spec[(colon + 1)..]);
                    break;
                }
            }
        }

        return Create(path, name, mediaType);
    }

    /// <summary>An artifact of a file, named or given the default name, its media type chosen by extension unless given.</summary>
    /// <param name="path">The file.</param>
    /// <param name="name">Its name (<c>[registry/]repository[:tag]</c>), or <see langword="null"/> for <c>files/&lt;file name&gt;:latest</c>.</param>
    /// <param name="mediaType">The layer's media type, or <see langword="null"/>.</param>
    /// <returns>The artifact.</returns>
    /// <exception cref="InvalidInputException">The file does not exist, or the name is not a reference.</exception>
    public static FileArtifact Create(string path, string? name, string? mediaType)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path}: no such file to carry (a directory is not carried: tar it first)");
        }

        var title = System.IO.Path.GetFileName(path);
        name ??= "files/" + DefaultRepository(title) + ":latest";
        if (!ImageReference.TryParse(name, out var reference, out var why))
        {
            throw new InvalidInputException($"{path}: {name} is not a name for it: {why}");
        }

        return new FileArtifact(path, reference!, mediaType ?? MediaTypeOf(title));
    }

    /// <summary>A media type for a file name by its extension; oras' default for the others.</summary>
    /// <param name="fileName">The file's name.</param>
    /// <returns>The media type.</returns>
    public static string MediaTypeOf(string fileName)
    {
        ArgumentNullException.ThrowIfNull(fileName);
        foreach (var (extension, type) in ByExtension.OrderByDescending(e => e.Key.Length))
        {
            if (fileName.EndsWith(extension, StringComparison.OrdinalIgnoreCase))
            {
                return type;
            }
        }

        return DefaultLayerMediaType;
    }

    /// <summary>The artifact's manifest for the file's layer.</summary>
    /// <param name="layer">The file's descriptor (its digest and size).</param>
    /// <returns>The manifest's exact bytes.</returns>
    public byte[] BuildManifest(Descriptor layer)
    {
        ArgumentNullException.ThrowIfNull(layer);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciManifest);
            writer.WriteString("artifactType", DefaultArtifactType);
            writer.WriteStartObject("config");
            writer.WriteString("mediaType", EmptyMediaType);
            writer.WriteString("digest", EmptyDescriptor.Digest.ToString());
            writer.WriteNumber("size", 2);
            writer.WriteString("data", "e30=");
            writer.WriteEndObject();
            writer.WriteStartArray("layers");
            writer.WriteStartObject();
            writer.WriteString("mediaType", layer.MediaType);
            writer.WriteString("digest", layer.Digest.ToString());
            writer.WriteNumber("size", layer.Size);
            writer.WriteStartObject("annotations");
            writer.WriteString(TitleAnnotation, Title);
            writer.WriteEndObject();
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>A repository path component from a file name: lower case, runs of other characters as one dash.</summary>
    private static string DefaultRepository(string title)
    {
        var text = new StringBuilder();
        foreach (var c in title.ToLowerInvariant())
        {
            var keep = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-';
            if (keep || (text.Length > 0 && text[^1] != '-'))
            {
                text.Append(keep ? c : '-');
            }
        }

        var name = text.ToString().Trim('-', '.', '_');
        return name.Length == 0 ? "file" : name;
    }
}
