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

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "{Host} does not speak HTTPS; using plain HTTP (loopback or --insecure registry)")]
    public static partial void FallingBackToHttp(ILogger logger, string host);

    [LoggerMessage(EventId = 6, Level = LogLevel.Debug, Message = "blob {Digest} ({Size} bytes) done in {Milliseconds} ms")]
    public static partial void BlobDone(ILogger logger, string digest, long size, long milliseconds);

    [LoggerMessage(EventId = 7, Level = LogLevel.Debug, Message = "transfer plan: {Blobs} blobs, {Bytes} bytes to stream, {UniqueBytes} bytes of distinct blobs")]
    public static partial void Plan(ILogger logger, int blobs, long bytes, long uniqueBytes);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "{What}: {Cause}; retrying in {Seconds:0.0} s (attempt {Attempt} of {MaxAttempts})")]
    public static partial void Retrying(ILogger logger, string what, string cause, double seconds, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 9, Level = LogLevel.Debug, Message = "redirect {From} -> {To}")]
    public static partial void Redirected(ILogger logger, string from, string to);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "TLS for {Authority}: {Authorities} extra CA(s), {ClientCertificates} client certificate(s) from {Directories}")]
    public static partial void TlsMaterial(ILogger logger, string authority, int authorities, int clientCertificates, string directories);

    [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "TLS certificate of {Authority} is not verified (--tls-verify=false / --insecure)")]
    public static partial void TlsNotVerified(ILogger logger, string authority);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "{What}: download cut at {Offset} of {Size} bytes ({Cause}); resuming (attempt {Attempt} of {MaxAttempts})")]
    public static partial void ResumingDownload(ILogger logger, string what, long offset, long size, string cause, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "{What}: the registry did not honour Range: bytes={Offset}- ({Answer}); downloading again from the start and skipping {Offset} bytes")]
    public static partial void RangeNotHonoured(ILogger logger, string what, long offset, string answer);

    [LoggerMessage(EventId = 14, Level = LogLevel.Debug, Message = "{Registry}: using credentials {Credential}")]
    public static partial void UsingCredentials(ILogger logger, string registry, string credential);

    [LoggerMessage(EventId = 15, Level = LogLevel.Debug, Message = "{Registry}: token for {Scope} valid {Seconds} s")]
    public static partial void TokenIssued(ILogger logger, string registry, string scope, int seconds);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "{Image}: its index {Index} is signed ({Tag}), but only some of its platforms are saved, as a new index that signature does not cover; save all its platforms to keep it verifiable (or sign each platform, cosign sign --recursive)")]
    public static partial void SubsetDropsIndexSignature(ILogger logger, string image, string index, string tag);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "{What}: upload interrupted after {Sent} bytes sent ({Cause}); {Next} in {Seconds:0.0} s")]
    public static partial void UploadInterrupted(ILogger logger, string what, long sent, string cause, string next, double seconds);
}
