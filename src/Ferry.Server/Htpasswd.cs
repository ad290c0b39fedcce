using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Ferry.Errors;

namespace Ferry.Server;

/// <summary>
/// Basic-auth users from an htpasswd file, as docker-registry reads it: <c>user:$2y$…</c> bcrypt lines (the only
/// form it accepts). A checked pair is remembered by a hash of it, so a pull of many blobs costs one bcrypt check.
/// An unknown user costs the same bcrypt check as a known one with a wrong password (against a decoy hash of the
/// users' highest cost), so the answer's time does not tell which user names exist.
/// </summary>
internal sealed class Htpasswd
{
    private readonly Dictionary<string, string> _hashes;
    private readonly string _decoy;
    private readonly ConcurrentDictionary<string, bool> _checked = new(StringComparer.Ordinal);

    private Htpasswd(Dictionary<string, string> hashes)
    {
        _hashes = hashes;
        var cost = hashes.Values.Select(CostOf).Max();
        _decoy = BCrypt.Net.BCrypt.HashPassword(Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)), cost);
    }

    public static Htpasswd Load(string path)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"cannot read the htpasswd file {path}: {ex.Message}", ex);
        }

        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var hash = colon > 0 ? line[(colon + 1)..] : string.Empty;
            if (!hash.StartsWith("$2", StringComparison.Ordinal))
            {
                throw new InvalidInputException($"{path} line {i + 1}: not a bcrypt entry (user:$2y$…; make one with: htpasswd -B -n USER)");
            }

            hashes[line[..colon]] = hash;
        }

        return hashes.Count > 0 ? new Htpasswd(hashes) : throw new InvalidInputException($"{path} holds no users");
    }

    /// <summary>Checks an <c>Authorization</c> header value; returns the user, or <see langword="null"/> when it does not pass.</summary>
    public string? Check(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return null;
        }

        if (!_hashes.TryGetValue(decoded[..colon], out var hash))
        {
            _ = BCrypt.Net.BCrypt.Verify(decoded[(colon + 1)..], _decoy); // as slow as a known user's wrong password
            return null;
        }

        var user = decoded[..colon];
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(decoded)));
        if (_checked.ContainsKey(key))
        {
            return user;
        }

        // Only passes are remembered: wrong guesses cannot grow the table.
        if (!BCrypt.Net.BCrypt.Verify(decoded[(colon + 1)..], hash))
        {
            return null;
        }

        _checked[key] = true;
        return user;
    }

    /// <summary>The work factor of a bcrypt hash (<c>$2y$12$…</c> is 12); 10 when it cannot be read.</summary>
    private static int CostOf(string hash) =>
        hash.Split('$') is [_, _, var cost, ..] && int.TryParse(cost, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 4 and <= 31 ? n : 10;
}
