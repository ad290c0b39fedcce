using Ferry.References;

namespace Ferry.Transfer;

/// <summary>What kind of failure an image met: for scripts and callers that act on it, without reading the message.</summary>
public enum FailureKind
{
    /// <summary>Anything else.</summary>
    Other,

    /// <summary>The request was malformed (a reference, a flag value).</summary>
    InvalidInput,

    /// <summary>The image (or its tag) does not exist at the source.</summary>
    NotFound,

    /// <summary>None of the selected platforms is in the image.</summary>
    PlatformNotFound,

    /// <summary>Credentials were refused.</summary>
    Authentication,

    /// <summary>The registry failed or refused (after the retries).</summary>
    Registry,

    /// <summary>Bytes did not match their digest or size.</summary>
    DigestMismatch,

    /// <summary>Content Ferry does not carry (nested indexes, schema 1, a config that disagrees with its manifest).</summary>
    Unsupported,

    /// <summary>No valid signature where one is required.</summary>
    SignatureRequired,

    /// <summary>The Docker Engine failed or refused.</summary>
    Daemon,

    /// <summary>The output could not be written.</summary>
    Output,
}

/// <summary>An image that could not be transferred (the run went on with the others).</summary>
/// <param name="Image">The image as requested.</param>
/// <param name="Position">Its 1-based position in the request.</param>
/// <param name="Reason">One line saying why.</param>
public sealed record FailedImage(string Image, int Position, string Reason)
{
    /// <summary>What kind of failure it was.</summary>
    public FailureKind Kind { get; init; }

    /// <summary>The failure an exception describes.</summary>
    /// <param name="image">The image as requested.</param>
    /// <param name="position">Its 1-based position in the request.</param>
    /// <param name="exception">What went wrong.</param>
    /// <returns>The failure, its kind told by the exception's type.</returns>
    public static FailedImage From(string image, int position, Errors.FerryException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new FailedImage(image, position, exception.Message) { Kind = KindOf(exception) };
    }

    /// <summary>The kind of failure an exception stands for.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>Its kind.</returns>
    public static FailureKind KindOf(Errors.FerryException exception) => exception switch
    {
        Errors.InvalidInputException => FailureKind.InvalidInput,
        Errors.ImageNotFoundException => FailureKind.NotFound,
        Errors.PlatformNotFoundException => FailureKind.PlatformNotFound,
        Errors.AuthenticationFailedException or Errors.CredentialHelperException => FailureKind.Authentication,
        Errors.RegistryException => FailureKind.Registry,
        Errors.DigestMismatchException => FailureKind.DigestMismatch,
        Errors.UnsupportedContentException => FailureKind.Unsupported,
        Errors.SignatureRequiredException => FailureKind.SignatureRequired,
        Errors.DaemonException => FailureKind.Daemon,
        Errors.OutputException => FailureKind.Output,
        _ => FailureKind.Other,
    };
}

/// <summary>An image the destination already held at the source's digest: nothing of it moved (an incremental mirror).</summary>
/// <param name="Image">The image as requested.</param>
/// <param name="Position">Its 1-based position in the request.</param>
/// <param name="Name">Its name at the destination.</param>
/// <param name="Digest">The digest both sides have.</param>
public sealed record UnchangedImage(string Image, int Position, ImageReference Name, Digest Digest);

/// <summary>The result for one saved image.</summary>
/// <param name="Reference">The normalised reference.</param>
/// <param name="Digest">The digest of what index.json points at (the index or the manifest).</param>
/// <param name="Platforms">The platforms saved.</param>
/// <param name="Bytes">The size of the image's blobs.</param>
/// <param name="IsSubsetIndex">Whether a subset index replaced the registry's index.</param>
public sealed record SavedImage(ImageReference Reference, Digest Digest, IReadOnlyList<Platform> Platforms, long Bytes, bool IsSubsetIndex)
{
    /// <summary><c>docker.io/library/nginx:1.27@sha256:0123456789ab [linux/amd64, linux/arm64/v8] 61234567 bytes</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Reference}@{Digest.Short} [{string.Join(", ", Platforms)}] {Bytes} bytes{(IsSubsetIndex ? " (subset index)" : string.Empty)}";
}
