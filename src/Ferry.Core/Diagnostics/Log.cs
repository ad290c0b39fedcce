using Microsoft.Extensions.Logging;

namespace Ferry.Diagnostics;

/// <summary>Ferry's log events, as named structured templates. None of them carries a secret.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Method} {Uri}")]
    public static partial void Request(ILogger logger, string method, string uri);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "{Status} {Method} {Uri}")]
    public static partial void Response(ILogger logger, int status, string method, string uri);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "{What}: manifest {MediaType} {Digest} ({Size} bytes)")]
    public static partial void ManifestFetched(ILogger logger, string what, string mediaType, string digest, int size);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "{What}: Docker-Content-Digest header {Announced} disagrees with the content's digest {Actual}; using the content's digest")]
    public static partial void ContentDigestHeaderMismatch(ILogger logger, string what, string announced, string actual);

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "{Host} does not speak HTTPS; using plain HTTP (loopback registry)")]
    public static partial void FallingBackToHttp(ILogger logger, string host);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "blob {Digest} ({Size} bytes) done in {Milliseconds} ms")]
    public static partial void BlobDone(ILogger logger, string digest, long size, long milliseconds);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "archive plan: {Blobs} blobs, {Bytes} bytes to download, {ArchiveBytes} bytes in the archive")]
    public static partial void Plan(ILogger logger, int blobs, long bytes, long archiveBytes);
}
