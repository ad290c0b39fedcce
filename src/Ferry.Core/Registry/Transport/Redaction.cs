namespace Ferry.Registry.Transport;

/// <summary>Makes URLs safe to print: no user info and no query string (signed blob-storage URLs carry their signature there).</summary>
internal static class Redaction
{
    public static string Uri(Uri? uri) =>
        uri is null ? "?" : uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) + (string.IsNullOrEmpty(uri.Query) ? string.Empty : "?<redacted>");
}
