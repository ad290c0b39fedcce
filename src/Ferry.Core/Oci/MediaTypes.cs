namespace Ferry.Oci;

/// <summary>The media types of the OCI image spec v1.1 and Docker's image manifest v2 schema 2.</summary>
public static class MediaTypes
{
    /// <summary>OCI image index.</summary>
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";

    /// <summary>OCI image manifest.</summary>
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";

    /// <summary>OCI image config.</summary>
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";

    /// <summary>Docker manifest list (schema 2).</summary>
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

    /// <summary>Docker image manifest (schema 2).</summary>
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

    /// <summary>Docker image config.</summary>
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";

    /// <summary>Docker schema 1 manifest (deprecated, unsupported).</summary>
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";

    /// <summary>Docker schema 1 signed manifest (deprecated, unsupported).</summary>
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    /// <summary>The Accept header value for manifest requests, most specific first.</summary>
    public static readonly string[] ManifestAccept = [OciIndex, DockerManifestList, OciManifest, DockerManifest];

    /// <summary>Whether the media type is an index or a manifest list.</summary>
    /// <param name="mediaType">The media type.</param>
    /// <returns><see langword="true"/> for OCI indexes and Docker manifest lists.</returns>
    public static bool IsIndex(string? mediaType) => mediaType is OciIndex or DockerManifestList;

    /// <summary>Whether the media type is a single-platform image manifest.</summary>
    /// <param name="mediaType">The media type.</param>
    /// <returns><see langword="true"/> for OCI and Docker schema 2 image manifests.</returns>
    public static bool IsImageManifest(string? mediaType) => mediaType is OciManifest or DockerManifest;

    /// <summary>Whether the media type is a Docker schema 1 manifest.</summary>
    /// <param name="mediaType">The media type.</param>
    /// <returns><see langword="true"/> for the deprecated schema 1 types.</returns>
    public static bool IsSchema1(string? mediaType) =>
        mediaType is DockerSchema1 or DockerSchema1Signed || (mediaType?.StartsWith("application/vnd.docker.distribution.manifest.v1", StringComparison.Ordinal) ?? false);

    /// <summary>Whether the media type is a container image config.</summary>
    /// <param name="mediaType">The media type.</param>
    /// <returns><see langword="true"/> for OCI and Docker image configs.</returns>
    public static bool IsImageConfig(string? mediaType) => mediaType is OciConfig or DockerConfig;
}
