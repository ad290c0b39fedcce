using System.Text;
using Ferry.Errors;

namespace Ferry.Signing;

/// <summary>
/// A bundle's own signature: a detached signature over the archive's <c>index.json</c> — which pins every manifest and,
/// through them, every blob — stored in the archive as <c>index.json.sig</c>, base64 as <c>cosign sign-blob</c> writes
/// it, so <c>cosign verify-blob --key cosign.pub --signature index.json.sig index.json</c> (or openssl) checks it too.
/// </summary>
public static class BundleSignature
{
    /// <summary>The signature's name in the archive.</summary>
    public const string FileName = "index.json.sig";

    /// <summary>Signs an <c>index.json</c>.</summary>
    /// <param name="indexJson">Its exact bytes.</param>
    /// <param name="key">The private key.</param>
    /// <returns>The bytes of <see cref="FileName"/>.</returns>
    public static byte[] Create(ReadOnlySpan<byte> indexJson, SigningKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Encoding.ASCII.GetBytes(Convert.ToBase64String(key.Sign(indexJson)));
    }

    /// <summary>Whether <paramref name="signatureFile"/> is the key's signature of <paramref name="indexJson"/>.</summary>
    /// <param name="indexJson">The archive's <c>index.json</c>, exact bytes.</param>
    /// <param name="signatureFile">The bytes of <see cref="FileName"/>.</param>
    /// <param name="key">The public key.</param>
    /// <returns><see langword="true"/> when it verifies.</returns>
    public static bool Verify(ReadOnlySpan<byte> indexJson, ReadOnlySpan<byte> signatureFile, VerificationKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            return key.Verify(indexJson, Convert.FromBase64String(Encoding.ASCII.GetString(signatureFile).Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The password for an encrypted key: <c>COSIGN_PASSWORD</c>, as cosign reads it, else <paramref name="prompt"/>.</summary>
    /// <param name="keyPath">The key file.</param>
    /// <param name="prompt">Asks the user; <see langword="null"/> when there is no terminal.</param>
    /// <returns>The loaded key.</returns>
    public static SigningKey LoadKey(string keyPath, Func<string?>? prompt)
    {
        if (!SigningKey.NeedsPassword(keyPath))
        {
            return SigningKey.Load(keyPath, null);
        }

        var password = Environment.GetEnvironmentVariable("COSIGN_PASSWORD") ?? prompt?.Invoke()
            ?? throw new InvalidInputException($"{keyPath} is encrypted: set COSIGN_PASSWORD (no terminal to ask on)");
        return SigningKey.Load(keyPath, password);
    }
}
