using System.Security.Cryptography;
using System.Text.Json;
using Ferry.Errors;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Generators;
using Org.BouncyCastle.Crypto.Macs;
using Org.BouncyCastle.Crypto.Parameters;

namespace Ferry.Signing;

/// <summary>
/// Opens cosign's (and skopeo's) encrypted private key: a PEM block <c>ENCRYPTED SIGSTORE PRIVATE KEY</c> (or
/// <c>ENCRYPTED COSIGN PRIVATE KEY</c>) holding JSON — a scrypt key derivation with its salt and cost, and a NaCl
/// secretbox (XSalsa20-Poly1305) nonce and ciphertext — around a PKCS#8 private key. scrypt and XSalsa20-Poly1305 come
/// from BouncyCastle; the .NET base library has neither.
/// </summary>
internal static class CosignEncryptedKey
{
    public static readonly string[] Labels = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"];

    private const int TagLength = 16;

    /// <summary>The PKCS#8 bytes inside.</summary>
    /// <param name="json">The PEM block's content.</param>
    /// <param name="password">The key's password.</param>
    /// <param name="path">The file, for messages.</param>
    /// <returns>The private key, PKCS#8 DER.</returns>
    /// <exception cref="InvalidInputException">Malformed, unsupported, or the password is wrong.</exception>
    public static byte[] Decrypt(byte[] json, string password, string path)
    {
        byte[] salt, nonce, box;
        int n, r, p;
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var kdf = root.GetProperty("kdf");
            var cipher = root.GetProperty("cipher");
            if (kdf.GetProperty("name").GetString() != "scrypt" || cipher.GetProperty("name").GetString() != "nacl/secretbox")
            {
                throw new InvalidInputException($"{path}: only scrypt + nacl/secretbox encrypted keys are supported");
            }

            var parameters = kdf.GetProperty("params");
            (n, r, p) = (parameters.GetProperty("N").GetInt32(), parameters.GetProperty("r").GetInt32(), parameters.GetProperty("p").GetInt32());
            salt = Convert.FromBase64String(kdf.GetProperty("salt").GetString() ?? string.Empty);
            nonce = Convert.FromBase64String(cipher.GetProperty("nonce").GetString() ?? string.Empty);
            box = Convert.FromBase64String(root.GetProperty("ciphertext").GetString() ?? string.Empty);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{path} is not a cosign encrypted key ({ex.GetType().Name})");
        }

        // Bounds that keep a hostile file from asking for gigabytes of scrypt memory (cosign uses N=32768, r=8, p=1).
        if (n is < 2 or > 1 << 20 || (n & (n - 1)) != 0 || r is < 1 or > 32 || p is < 1 or > 16 || nonce.Length != 24 || box.Length <= TagLength)
        {
            throw new InvalidInputException($"{path}: unsupported scrypt or secretbox parameters");
        }

        var secret = SCrypt.Generate(System.Text.Encoding.UTF8.GetBytes(password), salt, n, r, p, 32);
        return OpenSecretBox(box, nonce, secret) ?? throw new InvalidInputException($"{path}: wrong password (the key does not decrypt)");
    }

    /// <summary>NaCl's secretbox_open: the tag is Poly1305 over the ciphertext, keyed by the first 32 bytes of the XSalsa20 stream.</summary>
    private static byte[]? OpenSecretBox(byte[] box, byte[] nonce, byte[] key)
    {
        var stream = new XSalsa20Engine();
        stream.Init(false, new ParametersWithIV(new KeyParameter(key), nonce));
        var macKey = new byte[32];
        stream.ProcessBytes(new byte[32], 0, 32, macKey, 0);
        var mac = new Poly1305();
        mac.Init(new KeyParameter(macKey));
        mac.BlockUpdate(box, TagLength, box.Length - TagLength);
        var tag = new byte[TagLength];
        mac.DoFinal(tag, 0);
        if (!CryptographicOperations.FixedTimeEquals(tag, box.AsSpan(0, TagLength)))
        {
            return null;
        }

        var plain = new byte[box.Length - TagLength];
        stream.ProcessBytes(box, TagLength, plain.Length, plain, 0);
        return plain;
    }
}
