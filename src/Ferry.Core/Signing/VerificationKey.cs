using System.Security.Cryptography;
using Ferry.Errors;

namespace Ferry.Signing;

/// <summary>
/// A public key that checks signatures the way cosign makes them: ECDSA (P-256, P-384, P-521) over SHA-256 with an
/// ASN.1 DER signature, or RSA over SHA-256 (PKCS#1 v1.5, else PSS). Read from a PEM <c>PUBLIC KEY</c> file (what
/// <c>cosign generate-key-pair</c> writes as cosign.pub).
/// </summary>
public sealed class VerificationKey : IDisposable
{
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private VerificationKey(string path, ECDsa? ecdsa, RSA? rsa)
    {
        Path = path;
        _ecdsa = ecdsa;
        _rsa = rsa;
    }

    /// <summary>The file the key was read from.</summary>
    public string Path { get; }

    /// <summary><c>ECDSA P-256</c>, <c>RSA 2048</c>…</summary>
    public string Description => _ecdsa is { } e ? $"ECDSA {e.ExportParameters(false).Curve.Oid.FriendlyName}" : $"RSA {_rsa!.KeySize}";

    /// <summary>Reads a PEM public key.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The key; dispose it.</returns>
    /// <exception cref="InvalidInputException">Not a PEM public key of a supported kind.</exception>
    public static VerificationKey Load(string path)
    {
        var (label, data) = PemFile.Read(path);
        if (label != "PUBLIC KEY")
        {
            throw new InvalidInputException(label.Contains("PRIVATE", StringComparison.Ordinal)
                ? $"{path} is a private key; verifying takes the public key (cosign.pub)"
                : $"{path} holds a \"{label}\"; verifying takes a PEM public key (-----BEGIN PUBLIC KEY-----)");
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(data, out _);
            return new VerificationKey(path, ecdsa, null);
        }
        catch (CryptographicException)
        {
            ecdsa.Dispose();
        }

        var rsa = RSA.Create();
        try
        {
            rsa.ImportSubjectPublicKeyInfo(data, out _);
            return new VerificationKey(path, null, rsa);
        }
        catch (CryptographicException)
        {
            rsa.Dispose();
            throw new InvalidInputException($"{path}: not an ECDSA or RSA public key");
        }
    }

    /// <summary>Whether <paramref name="signature"/> is this key's signature of <paramref name="data"/>.</summary>
    /// <param name="data">The signed bytes.</param>
    /// <param name="signature">The signature (DER for ECDSA; raw r||s is accepted too).</param>
    /// <returns><see langword="true"/> when it verifies.</returns>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        try
        {
            if (_ecdsa is { } ecdsa)
            {
                return ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence) ||
                       ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
            }

            return _rsa!.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1) ||
                   _rsa.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pss);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }
}
