using System.Text;
using System.Text.Json;
using Ferry.Errors;

namespace Ferry.Registry.Auth;

/// <summary>
/// A parsed credential file: Docker's <c>config.json</c> or the containers tools' <c>auth.json</c> (the same
/// <c>auths</c> format). Holds the decoded <c>auths</c> entries (keyed by <see cref="AuthKeys.Normalize"/>),
/// and Docker's <c>credsStore</c> and <c>credHelpers</c>.
/// </summary>
public sealed class AuthFile
{
    /// <summary>The largest credential file read (1 MiB).</summary>
    public const int MaxBytes = 1024 * 1024;

    private AuthFile(string path, Dictionary<string, RegistryCredential> entries, string? credsStore, Dictionary<string, string> credHelpers)
    {
        Path = path;
        Entries = entries;
        CredsStore = credsStore;
        CredHelpers = credHelpers;
    }

    /// <summary>The file's path (for messages).</summary>
    public string Path { get; }

    /// <summary>Credentials from <c>auths</c>, keyed by normalised key (host, or host/namespace).</summary>
    public IReadOnlyDictionary<string, RegistryCredential> Entries { get; }

    /// <summary>The default credential helper suffix (<c>credsStore</c>), if any.</summary>
    public string? CredsStore { get; }

    /// <summary>Per-registry helper suffixes (<c>credHelpers</c>), keyed by normalised host.</summary>
    public IReadOnlyDictionary<string, string> CredHelpers { get; }

    /// <summary>Reads a credential file; a missing file is an empty one.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The parsed file.</returns>
    /// <exception cref="InvalidInputException">The file is too big, not JSON, or an entry is malformed.</exception>
    public static AuthFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return Parse([], path);
        }

        var info = new FileInfo(path);
        if (info.Length > MaxBytes)
        {
            throw new InvalidInputException($"{path} is larger than {MaxBytes} bytes; not a credential file");
        }

        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Finds the most specific <c>auths</c> entry for a repository.</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="repository">The repository path, or empty.</param>
    /// <returns>The entry, or <see langword="null"/>.</returns>
    public RegistryCredential? Find(string registry, string repository)
    {
        foreach (var key in AuthKeys.LookupOrder(registry, repository))
        {
            if (Entries.TryGetValue(key, out var credential))
            {
                return credential;
            }
        }

        return null;
    }

    /// <summary>The helper suffix that holds a registry's credentials: <c>credHelpers[host]</c>, else <c>credsStore</c>.</summary>
    /// <param name="registry">The registry host.</param>
    /// <returns>The suffix (as in <c>docker-credential-SUFFIX</c>), or <see langword="null"/>.</returns>
    public string? HelperFor(string registry) =>
        CredHelpers.TryGetValue(AuthKeys.NormalizeHost(registry), out var helper) && helper.Length > 0 ? helper : string.IsNullOrEmpty(CredsStore) ? null : CredsStore;

    /// <summary>Parses the content of a credential file.</summary>
    /// <param name="json">The bytes; empty means an empty file.</param>
    /// <param name="path">The file name, for messages.</param>
    /// <returns>The parsed file.</returns>
    /// <exception cref="InvalidInputException">Not JSON, or an <c>auth</c> field is malformed.</exception>
    public static AuthFile Parse(ReadOnlySpan<byte> json, string path)
    {
        var entries = new Dictionary<string, RegistryCredential>(StringComparer.Ordinal);
        var helpers = new Dictionary<string, string>(StringComparer.Ordinal);
        string? credsStore = null;
        if (json.Trim(" \t\r\n"u8).IsEmpty)
        {
            return new AuthFile(path, entries, null, helpers);
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{path} is not valid JSON: {ex.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidInputException($"{path} is not a JSON object");
            }

            if (root.TryGetProperty("credsStore", out var store) && store.ValueKind == JsonValueKind.String)
            {
                credsStore = store.GetString();
            }

            if (root.TryGetProperty("credHelpers", out var perHost) && perHost.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in perHost.EnumerateObject())
                {
                    if (entry.Value.ValueKind == JsonValueKind.String)
                    {
                        helpers[AuthKeys.Normalize(entry.Name)] = entry.Value.GetString()!;
                    }
                }
            }

            if (root.TryGetProperty("auths", out var auths) && auths.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in auths.EnumerateObject())
                {
                    if (ParseEntry(entry, path) is { } credential)
                    {
                        entries[AuthKeys.Normalize(entry.Name)] = credential;
                    }
                }
            }
        }

        return new AuthFile(path, entries, credsStore, helpers);
    }

    private static RegistryCredential? ParseEntry(JsonProperty entry, string path)
    {
        if (entry.Value.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? Field(string name) => entry.Value.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        var identityToken = Field("identitytoken");
        var username = Field("username") ?? string.Empty;
        var password = Field("password") ?? string.Empty;
        if (Field("auth") is { Length: > 0 } auth)
        {
            (username, password) = DecodeAuth(auth, entry.Name, path);
        }

        if (username.Length == 0 && password.Length == 0 && string.IsNullOrEmpty(identityToken))
        {
            return null; // "{}" marks a registry whose secret lives in a helper.
        }

        return new RegistryCredential(username, password, string.IsNullOrEmpty(identityToken) ? null : identityToken) { Source = path };
    }

    /// <summary>Decodes an <c>auth</c> field as Docker does: base64 of <c>user:password</c>, split at the first colon, NULs trimmed from the password.</summary>
    private static (string Username, string Password) DecodeAuth(string auth, string key, string path)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
        }
        catch (FormatException)
        {
            throw new InvalidInputException($"{path}: the \"auth\" field for {key} is not valid base64");
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            throw new InvalidInputException($"{path}: the \"auth\" field for {key} is not user:password");
        }

        return (decoded[..colon], decoded[(colon + 1)..].TrimEnd('\0'));
    }

    /// <summary>Encodes <c>user:password</c> for an <c>auth</c> field.</summary>
    /// <param name="username">The user.</param>
    /// <param name="password">The password.</param>
    /// <returns>The base64 value.</returns>
    internal static string EncodeAuth(string username, string password) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}"));
}
