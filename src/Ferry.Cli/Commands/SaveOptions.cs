using Ferry.Archives.Compression;
using Ferry.Daemon;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;

namespace Ferry.Cli.Commands;

/// <summary>The bound options of <c>ferry save</c>.</summary>
internal sealed record SaveOptions(
    IReadOnlyList<string> Images,
    string? ListFile,
    string? Output,
    PlatformSelection Platforms,
    ArchiveFormat Format,
    OuterCompression Compression,
    RegistryClientOptions ClientOptions,
    Func<string, CredentialSources> CredentialsFor,
    bool PasswordFromStdin,
    int Jobs,
    int MaxConcurrentDownloads,
    string? SourceRegistry,
    string FailedFile,
    bool Debug,
    bool Quiet,
    string Progress,
    DockerEndpointOptions? Daemon,
    bool CompressLayers,
    IReadOnlyList<string> Exclude,
    IReadOnlyList<string> ExcludeArchives,
    bool Force,
    bool Checksums,
    Shard? Shard,
    long? SplitSize,
    bool NoResume,
    bool NoReferrers,
    string? SignKey);
