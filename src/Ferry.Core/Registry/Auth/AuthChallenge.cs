using System.Text;

namespace Ferry.Registry.Auth;

/// <summary>
/// One authentication challenge from a <c>WWW-Authenticate</c> header (RFC 7235 §4.1): a scheme and its
/// parameters. A header may hold several challenges; quoted values may contain commas and escapes.
/// </summary>
/// <param name="Scheme">The scheme, lower-cased (<c>bearer</c>, <c>basic</c>).</param>
/// <param name="Parameters">The auth-params, names lower-cased.</param>
public sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>Gets a parameter or <see langword="null"/>.</summary>
    /// <param name="name">The lower-case parameter name.</param>
    /// <returns>The value when present.</returns>
    public string? this[string name] => Parameters.TryGetValue(name, out var value) ? value : null;

    /// <summary>Parses every challenge in one or more header values.</summary>
    /// <param name="headerValues">The raw <c>WWW-Authenticate</c> values.</param>
    /// <returns>The challenges, in order; malformed parts are skipped.</returns>
    public static IReadOnlyList<AuthChallenge> Parse(IEnumerable<string> headerValues)
    {
        ArgumentNullException.ThrowIfNull(headerValues);
        var result = new List<AuthChallenge>();
        foreach (var header in headerValues)
        {
            ParseOne(header, result);
        }

        return result;
    }

    private static void ParseOne(string header, List<AuthChallenge> result)
    {
        var i = 0;
        string? scheme = null;
        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        while (i < header.Length)
        {
            SkipWhitespaceAndCommas(header, ref i);
            if (i >= header.Length)
            {
                break;
            }

            var token = ReadToken(header, ref i);
            if (token.Length == 0)
            {
                i++;
                continue;
            }

            SkipWhitespace(header, ref i);
            if (i < header.Length && header[i] == '=' && scheme is not null)
            {
                i++;
                SkipWhitespace(header, ref i);
                var value = i < header.Length && header[i] == '"' ? ReadQuoted(header, ref i) : ReadToken(header, ref i);
                parameters[token.ToLowerInvariant()] = value;
                continue;
            }

            // A token not followed by '=' starts a new challenge.
            if (scheme is not null)
            {
                result.Add(new AuthChallenge(scheme, parameters));
                parameters = new Dictionary<string, string>(StringComparer.Ordinal);
            }

            scheme = token.ToLowerInvariant();
        }

        if (scheme is not null)
        {
            result.Add(new AuthChallenge(scheme, parameters));
        }
    }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or '\t' or ',' or '=' or '"'))
        {
            i++;
        }

        // token68 values (Basic credentials) may end in '=' padding; challenges do not use them.
        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var builder = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }

            builder.Append(s[i]);
            i++;
        }

        i++; // closing quote
        return builder.ToString();
    }

    private static void SkipWhitespace(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t')
        {
            i++;
        }
    }

    private static void SkipWhitespaceAndCommas(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or '\t' or ',')
        {
            i++;
        }
    }
}
