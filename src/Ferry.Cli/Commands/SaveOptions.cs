using Ferry.Archives.Compression;
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
    bool PlainHttp,
    int Jobs,
    int MaxConcurrentDownloads,
    string? SourceRegistry,
    string FailedFile,
    bool Debug,
    bool Quiet,
    string Progress);
