namespace Ferry.Registry.Transport;

/// <summary>Makes URLs safe to print: no user info and no query string (signed blob-storage URLs carry their signature there).</summary>
internal static class Redaction
{
    public static string Uri(Uri? uri) =>
        uri is null ? "?" : uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) + (string.IsNullOrEmpty(uri.Query) ? string.Empty : "?<redacted>");

    /// <summary>An address as given (<c>ssh://user:pw@host</c>, <c>tcp://u:pw@host:2376</c>) with any password masked.</summary>
    public static string Address(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var scheme = address.IndexOf("://", StringComparison.Ordinal);
        var at = address.IndexOf('@', StringComparison.Ordinal);
        if (scheme < 0 || at < scheme)
        {
            return address;
        }

        var userInfo = address[(scheme + 3)..at];
        var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? address : address[..(scheme + 3)] + userInfo[..colon] + ":***" + address[at..];
    }

    /// <summary>Whether a header value carries a character that could end the header (CR, LF) or other control characters.</summary>
    public static bool HasControlCharacters(string value) => value.Any(c => c < 0x20 || c == 0x7f);
}
