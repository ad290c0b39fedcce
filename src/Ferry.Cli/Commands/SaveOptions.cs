using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Daemon;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;

namespace Ferry.Cli.Commands;

/// <summary>The bound options of <c>ferry save</c>.</summary>
internal sealed record SaveOptions
{
    public required IReadOnlyList<string> Images { get; init; }

    /// <summary>Which tags a line naming a repository becomes (<c>--all-tags</c> and the tag filters).</summary>
    public Registry.TagSelection Tags { get; init; } = new();

    public string? ListFile { get; init; }

    /// <summary>Print what would be saved (each image with its digest) and stop before any blob is read.</summary>
    public bool DryRun { get; init; }

    /// <summary>Plain files carried as OCI artifacts (<c>--add-file</c>, a bundle file's <c>files:</c>).</summary>
    public IReadOnlyList<Files.FileArtifact> Files { get; init; } = [];

    public string? Output { get; init; }

    public PlatformSelection? Platforms { get; init; }

    public required ArchiveFormat Format { get; init; }

    public required OuterCompression Compression { get; init; }

    public required RegistryClientOptions ClientOptions { get; init; }

    public required Func<string, CredentialSources> CredentialsFor { get; init; }

    public bool PasswordFromStdin { get; init; }

    public required int Jobs { get; init; }

    public required int MaxConcurrentDownloads { get; init; }

    public string? SourceRegistry { get; init; }

    public required string FailedFile { get; init; }

    public bool Debug { get; init; }

    public bool Quiet { get; init; }

    public required string Progress { get; init; }

    public DockerEndpointOptions? Daemon { get; init; }

    public bool CompressLayers { get; init; }

    public required IReadOnlyList<string> Exclude { get; init; }

    public required IReadOnlyList<string> ExcludeArchives { get; init; }

    public bool Force { get; init; }

    public bool Checksums { get; init; }

    public Shard? Shard { get; init; }

    public long? SplitSize { get; init; }

    public bool NoResume { get; init; }

    public bool NoReferrers { get; init; }

    public string? SignKey { get; init; }

    public Oci.ManifestFormat? ManifestFormat { get; init; }
}
