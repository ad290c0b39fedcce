namespace Ferry.Errors;

/// <summary>
/// The base of every failure Ferry reports. Its <see cref="Exception.Message"/> is one line meant for a
/// person: it names the operation and the object and never contains a secret.
/// </summary>
public abstract class FerryException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">A one-line, secret-free description.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    protected FerryException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>The registry answer this failure comes from (method, URI, status, the distribution spec's error code), when it comes from one.</summary>
    public RegistryResponse? Response { get; init; }
}

/// <summary>A registry's failed answer, for programs that handle failures by kind (e.g. <c>DENIED</c>, <c>TOOMANYREQUESTS</c>).</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Uri">The URI, without query string or user info.</param>
/// <param name="Status">The HTTP status.</param>
/// <param name="ErrorCode">The first error code of the body's <c>errors</c> (e.g. <c>MANIFEST_UNKNOWN</c>), if any.</param>
public sealed record RegistryResponse(string Method, string Uri, int Status, string? ErrorCode);

/// <summary>The user's input is invalid: a malformed reference, platform, option or path.</summary>
public sealed class InvalidInputException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the input.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public InvalidInputException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>Content did not match the digest or size that named it; the bytes were not used.</summary>
public sealed class DigestMismatchException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which object, the expected and the actual value.</param>
    public DigestMismatchException(string message)
        : base(message)
    {
    }
}

/// <summary>The image, tag or blob does not exist in the registry.</summary>
public sealed class ImageNotFoundException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was not found, and where.</param>
    public ImageNotFoundException(string message)
        : base(message)
    {
    }
}

/// <summary>The registry refused the credentials (or their absence).</summary>
public sealed class AuthenticationFailedException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which registry refused, and for what.</param>
    public AuthenticationFailedException(string message)
        : base(message)
    {
    }
}

/// <summary>The registry answered with an error, or could not be reached.</summary>
public sealed class RegistryException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The method, the URI (without secrets) and the registry's answer.</param>
    /// <param name="statusCode">The HTTP status, when there was a response.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public RegistryException(string message, int? statusCode = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The HTTP status code, or <see langword="null"/> when no response arrived.</summary>
    public int? StatusCode { get; }
}

/// <summary>The content is of a kind Ferry does not handle (e.g. Docker schema 1 manifests).</summary>
public sealed class UnsupportedContentException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is unsupported, and why.</param>
    public UnsupportedContentException(string message)
        : base(message)
    {
    }
}

/// <summary>No platform of an image matches the selected platforms.</summary>
public sealed class PlatformNotFoundException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The image, the wanted platforms and the platforms it has.</param>
    public PlatformNotFoundException(string message)
        : base(message)
    {
    }
}

/// <summary>Writing the output failed (disk full, permission, missing directory…).</summary>
public sealed class OutputException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What could not be written, and why.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public OutputException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A configured credential helper could not run or failed; never silently skipped.</summary>
public sealed class CredentialHelperException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which helper, configured where, and what went wrong (never a secret).</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public CredentialHelperException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The Docker daemon could not be reached or reported an error.</summary>
public sealed class DaemonException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">The daemon's address and what it said.</param>
    /// <param name="innerException">The underlying cause, if any.</param>
    public DaemonException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>An image was refused before anything of it moved: it carries no valid signature by the required key.</summary>
public sealed class SignatureRequiredException : FerryException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which image, and why.</param>
    public SignatureRequiredException(string message)
        : base(message)
    {
    }
}
