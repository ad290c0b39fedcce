using System.Security.Cryptography;
using Ferry.Errors;

namespace Ferry.Signing;

/// <summary>The first PEM block of a key file: its label and decoded bytes.</summary>
internal static class PemFile
{
    public const int MaxKeyFileBytes = 64 * 1024;

    public static (string Label, byte[] Data) Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path} does not exist");
        }

        if (new FileInfo(path).Length > MaxKeyFileBytes)
        {
            throw new InvalidInputException($"{path} is larger than any key file ({MaxKeyFileBytes} bytes at most)");
        }

        var text = File.ReadAllText(path);
        if (!PemEncoding.TryFind(text, out var fields))
        {
            throw new InvalidInputException($"{path} is not a PEM file (no -----BEGIN …----- block)");
        }

        var data = new byte[fields.DecodedDataLength];
        if (!Convert.TryFromBase64Chars(text.AsSpan()[fields.Base64Data], data, out var written))
        {
            throw new InvalidInputException($"{path}: the PEM block is not valid base64");
        }

        return (text[fields.Label], data[..written]);
    }
}
