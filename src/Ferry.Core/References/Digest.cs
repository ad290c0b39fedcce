using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Ferry.References;

/// <summary>
/// A validated content digest such as <c>sha256:9f86…</c>, as defined by the OCI image spec
/// (descriptor.md, "Digests"). Only <c>sha256</c> and <c>sha512</c> with lower-case hex of the exact
/// length are accepted, so a digest can safely become a file name or a URL segment.
/// </summary>
public readonly record struct Digest
{
    private Digest(string algorithm, string hex)
    {
        Algorithm = algorithm;
        Hex = hex;
    }

    /// <summary>The algorithm, <c>sha256</c> or <c>sha512</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The lower-case hexadecimal encoded hash.</summary>
    public string Hex { get; }

    /// <summary>The path of this blob inside an OCI image layout, e.g. <c>blobs/sha256/&lt;hex&gt;</c>.</summary>
    public string LayoutPath => $"blobs/{Algorithm}/{Hex}";

    /// <summary>Parses a digest string.</summary>
    /// <param name="value">The text, e.g. <c>sha256:&lt;64 hex&gt;</c>.</param>
    /// <returns>The digest.</returns>
    /// <exception cref="FormatException">The text is not a valid sha256/sha512 digest.</exception>
    public static Digest Parse(string value) =>
        TryParse(value, out var digest) ? digest : throw new FormatException($"invalid digest \"{Truncate(value)}\"");

    /// <summary>Tries to parse a digest string.</summary>
    /// <param name="value">The text to parse.</param>
    /// <param name="digest">The digest when the text is valid.</param>
    /// <returns><see langword="true"/> when <paramref name="value"/> is a valid digest.</returns>
    public static bool TryParse([NotNullWhen(true)] string? value, out Digest digest)
    {
        digest = default;
        if (value is null)
        {
            return false;
        }

        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        var algorithm = value[..colon];
        var hex = value[(colon + 1)..];
        var expectedLength = algorithm switch
        {
            "sha256" => 64,
            "sha512" => 128,
            _ => -1,
        };
        if (hex.Length != expectedLength || !hex.All(IsLowerHex))
        {
            return false;
        }

        digest = new Digest(algorithm, hex);
        return true;
    }

    /// <summary>Computes the sha256 digest of some bytes.</summary>
    /// <param name="content">The bytes to hash.</param>
    /// <returns>Their sha256 digest.</returns>
    public static Digest Sha256Of(ReadOnlySpan<byte> content) =>
        new("sha256", Convert.ToHexStringLower(SHA256.HashData(content)));

    /// <summary>Creates a digest from a finished hash.</summary>
    /// <param name="algorithm">The algorithm name.</param>
    /// <param name="hash">The raw hash bytes.</param>
    /// <returns>The digest.</returns>
    internal static Digest FromHash(string algorithm, ReadOnlySpan<byte> hash) => new(algorithm, Convert.ToHexStringLower(hash));

    /// <summary>Creates the incremental hash that computes a digest of this digest's algorithm.</summary>
    /// <returns>A new incremental hash; the caller disposes it.</returns>
    internal IncrementalHash CreateHash() =>
        IncrementalHash.CreateHash(Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

    /// <summary>The digest as text, <c>algorithm:hex</c>.</summary>
    /// <returns>The canonical string form.</returns>
    public override string ToString() => Hex is null ? string.Empty : $"{Algorithm}:{Hex}";

    /// <summary>A short form for logs, e.g. <c>sha256:9f86d081884c</c>.</summary>
    public string Short => Hex is null ? string.Empty : $"{Algorithm}:{Hex[..12]}";

    private static bool IsLowerHex(char c) => c is (>= '0' and <= '9') or (>= 'a' and <= 'f');

    private static string Truncate(string? value) =>
        value is null ? string.Empty : value.Length > 80 ? value[..80] + "…" : value;
}
