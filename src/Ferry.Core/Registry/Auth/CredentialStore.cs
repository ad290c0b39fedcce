using System.Text.Json;
using System.Text.Json.Nodes;
using Ferry.Errors;

namespace Ferry.Registry.Auth;

/// <summary>
/// Stores and erases credentials as <c>docker login</c>/<c>docker logout</c> do: in the configured credential
/// helper (<c>credHelpers[host]</c>, else <c>credsStore</c>) with an empty marker entry in <c>auths</c>, else as a
/// base64 <c>auth</c> entry. The file is rewritten atomically (temp + rename, mode 0600), a symlinked file is
/// written through, and every other field of the file is kept as it was.
/// </summary>
public sealed class CredentialStore
{
    private readonly string _path;
    private readonly TimeSpan _helperTimeout;

    /// <summary>Creates a store over one config file.</summary>
    /// <param name="path">Docker's <c>config.json</c> (or an auth file named with <c>--authfile</c>).</param>
    /// <param name="helperTimeout">How long a helper call may take.</param>
    public CredentialStore(string path, TimeSpan? helperTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        _path = path;
        _helperTimeout = helperTimeout ?? TimeSpan.FromSeconds(30);
    }

    /// <summary>The file written.</summary>
    public string Path => _path;

    /// <summary>Stores credentials for a registry.</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="credential">The credentials.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Where they were stored, for the user (a helper name or the file path).</returns>
    /// <exception cref="CredentialHelperException">The configured helper cannot run or fails.</exception>
    public async Task<string> StoreAsync(string registry, RegistryCredential credential, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var file = AuthFile.Load(_path);
        var address = AuthKeys.ServerAddress(registry);
        var root = ReadRoot();
        var auths = root["auths"] as JsonObject ?? new JsonObject();
        root["auths"] = auths;
        RemoveAliases(auths, registry);
        string where;
        if (file.HelperFor(registry) is { } suffix)
        {
            var helper = new CredentialHelper(suffix, _path, _helperTimeout);
            await helper.StoreAsync(address, credential, cancellationToken).ConfigureAwait(false);
            auths[address] = new JsonObject();
            where = helper.Program;
        }
        else
        {
            var entry = new JsonObject();
            if (credential.IdentityToken is { } token)
            {
                entry["identitytoken"] = token;
            }
            else
            {
                entry["auth"] = AuthFile.EncodeAuth(credential.Username, credential.Password);
            }

            auths[address] = entry;
            where = _path;
        }

        WriteRoot(root);
        return where;
    }

    /// <summary>Erases a registry's credentials from the helper and the file.</summary>
    /// <param name="registry">The registry host.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns><see langword="true"/> when credentials were found and removed.</returns>
    /// <exception cref="CredentialHelperException">The configured helper cannot run or fails.</exception>
    public async Task<bool> EraseAsync(string registry, CancellationToken cancellationToken = default)
    {
        var file = AuthFile.Load(_path);
        var removed = false;
        if (file.HelperFor(registry) is { } suffix)
        {
            removed = await new CredentialHelper(suffix, _path, _helperTimeout).EraseAsync(AuthKeys.ServerAddress(registry), cancellationToken).ConfigureAwait(false);
        }

        if (!File.Exists(_path))
        {
            return removed;
        }

        var root = ReadRoot();
        if (root["auths"] is JsonObject auths && RemoveAliases(auths, registry))
        {
            WriteRoot(root);
            removed = true;
        }

        return removed;
    }

    /// <summary>Removes every key of <paramref name="auths"/> that names the registry (URL or bare host forms).</summary>
    private static bool RemoveAliases(JsonObject auths, string registry)
    {
        var host = AuthKeys.NormalizeHost(registry);
        var keys = auths.Select(p => p.Key).Where(k => AuthKeys.Normalize(k) == host).ToList();
        foreach (var key in keys)
        {
            auths.Remove(key);
        }

        return keys.Count > 0;
    }

    private JsonObject ReadRoot()
    {
        if (!File.Exists(_path))
        {
            return new JsonObject();
        }

        var bytes = File.ReadAllBytes(_path);
        if (bytes.Length > AuthFile.MaxBytes)
        {
            throw new InvalidInputException($"{_path} is larger than {AuthFile.MaxBytes} bytes; not a credential file");
        }

        try
        {
            return bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty
                ? new JsonObject()
                : JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                  ?? throw new InvalidInputException($"{_path} is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new InvalidInputException($"{_path} is not valid JSON: {ex.Message}");
        }
    }

    private void WriteRoot(JsonObject root)
    {
        // Write through a symlinked config (as docker does), next to its real target.
        var target = System.IO.Path.GetFullPath(_path);
        if (File.Exists(target) && new FileInfo(target).ResolveLinkTarget(returnFinalTarget: true) is { } resolved)
        {
            target = resolved.FullName;
        }

        var directory = System.IO.Path.GetDirectoryName(target)!;
        if (!Directory.Exists(directory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(directory);
            }
            else
            {
                Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var temporary = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(target)}.ferry-{Guid.NewGuid().ToString("N")[..12]}.tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            using (var stream = new FileStream(temporary, options))
            {
                using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
                {
                    root.WriteTo(writer);
                }

                stream.Write("\n"u8);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
