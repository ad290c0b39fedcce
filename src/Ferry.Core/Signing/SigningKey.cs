using System.Security.Cryptography;
using Ferry.Errors;

namespace Ferry.Signing;

/// <summary>
/// A private key that signs the way cosign does (ECDSA with a DER signature, or RSA PKCS#1 v1.5; SHA-256): cosign's
/// encrypted key file (cosign.key, <c>ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY</c>), or a PEM <c>PRIVATE KEY</c>,
/// <c>EC PRIVATE KEY</c>, <c>RSA PRIVATE KEY</c> or <c>ENCRYPTED PRIVATE KEY</c>.
/// </summary>
public sealed class SigningKey : IDisposable
{
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private SigningKey(ECDsa? ecdsa, RSA? rsa)
    {
        _ecdsa = ecdsa;
        _rsa = rsa;
    }

    /// <summary>Whether a key file needs a password.</summary>
    /// <param name="path">The file.</param>
    /// <returns><see langword="true"/> for encrypted keys.</returns>
    public static bool NeedsPassword(string path) => PemFile.Read(path).Label.StartsWith("ENCRYPTED", StringComparison.Ordinal);

    /// <summary>Reads a private key.</summary>
    /// <param name="path">The file.</param>
    /// <param name="password">The password of an encrypted key (cosign's <c>COSIGN_PASSWORD</c>); ignored for a plain one.</param>
    /// <returns>The key; dispose it.</returns>
    /// <exception cref="InvalidInputException">Not a supported private key, or the password is wrong or missing.</exception>
    public static SigningKey Load(string path, string? password)
    {
        var (label, data) = PemFile.Read(path);
        byte[] pkcs8;
        if (CosignEncryptedKey.Labels.Contains(label))
        {
            pkcs8 = CosignEncryptedKey.Decrypt(data, password ?? throw new InvalidInputException($"{path} is encrypted: give its password (COSIGN_PASSWORD)"), path);
        }
        else if (label is "PRIVATE KEY" or "EC PRIVATE KEY" or "RSA PRIVATE KEY" or "ENCRYPTED PRIVATE KEY")
        {
            pkcs8 = data;
        }
        else
        {
            throw new InvalidInputException(label == "PUBLIC KEY" ? $"{path} is a public key; signing takes the private key (cosign.key)" : $"{path} holds a \"{label}\", not a private key");
        }

        try
        {
            return label switch
            {
                "EC PRIVATE KEY" => FromEcdsa(e => e.ImportECPrivateKey(pkcs8, out _)),
                "RSA PRIVATE KEY" => FromRsa(r => r.ImportRSAPrivateKey(pkcs8, out _)),
                "ENCRYPTED PRIVATE KEY" => TryEcdsa(e => e.ImportEncryptedPkcs8PrivateKey(password ?? throw new InvalidInputException($"{path} is encrypted: give its password (COSIGN_PASSWORD)"), pkcs8, out _))
                                           ?? FromRsa(r => r.ImportEncryptedPkcs8PrivateKey(password, pkcs8, out _)),
                _ => TryEcdsa(e => e.ImportPkcs8PrivateKey(pkcs8, out _)) ?? FromRsa(r => r.ImportPkcs8PrivateKey(pkcs8, out _)),
            };
        }
        catch (CryptographicException ex)
        {
            throw new InvalidInputException($"{path}: not a usable ECDSA or RSA private key ({ex.Message})");
        }
    }

    /// <summary>Signs bytes: SHA-256, DER-encoded ECDSA or RSA PKCS#1 v1.5.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The signature.</returns>
    public byte[] Sign(ReadOnlySpan<byte> data) =>
        _ecdsa is { } ecdsa
            ? ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence)
            : _rsa!.SignData(data.ToArray(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The matching public key, PEM.</summary>
    /// <returns>The PEM text.</returns>
    public string PublicKeyPem() => _ecdsa is { } ecdsa ? ecdsa.ExportSubjectPublicKeyInfoPem() : _rsa!.ExportSubjectPublicKeyInfoPem();

    /// <inheritdoc />
    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }

    private static SigningKey? TryEcdsa(Action<ECDsa> import)
    {
        var ecdsa = ECDsa.Create();
        try
        {
            import(ecdsa);
            return new SigningKey(ecdsa, null);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
            return null;
        }
    }

    private static SigningKey FromEcdsa(Action<ECDsa> import) => TryEcdsa(import) ?? throw new CryptographicException("not an EC key");

    private static SigningKey FromRsa(Action<RSA> import)
    {
        var rsa = RSA.Create();
        try
        {
            import(rsa);
            return new SigningKey(null, rsa);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }
}
