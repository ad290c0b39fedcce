using System.Collections.Concurrent;
using System.Security.Cryptography;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Files;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Transfer.Sources;

/// <summary>
/// Plain files as OCI artifacts (<see cref="FileArtifact"/>): each is read once to learn its digest and size when it is
/// resolved, and read again — verified against them — when its bytes are written, so a file changed in between fails
/// instead of landing under the wrong digest. An image source like any other: the engine's rules, plans and sinks apply.
/// </summary>
/// <param name="files">The files, each under its key (what the request names it by).</param>
public sealed class FileArtifactSource(IReadOnlyDictionary<string, FileArtifact> files) : IImageSource
{
    private readonly ConcurrentDictionary<string, Lazy<Task<Descriptor>>> _layers = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Digest, string> _paths = new();

    /// <summary>The key a file goes by in a request: <c>file:PATH</c>.</summary>
    /// <param name="file">The file.</param>
    /// <returns>The key.</returns>
    public static string KeyOf(FileArtifact file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return "file:" + file.Path;
    }

    /// <summary>Whether a request's image is one of these files.</summary>
    /// <param name="key">The image as the request names it.</param>
    /// <returns><see langword="true"/> for a file's key.</returns>
    public bool Owns(string key) => files.ContainsKey(key);

    /// <summary>Whether a blob is one of these files' bytes.</summary>
    /// <param name="blob">The blob.</param>
    /// <returns><see langword="true"/> when it is read from a file here.</returns>
    public bool Serves(TransferBlob blob)
    {
        ArgumentNullException.ThrowIfNull(blob);
        return _paths.ContainsKey(blob.Descriptor.Digest);
    }

    /// <inheritdoc />
    public PlatformSelection DefaultPlatforms => PlatformSelection.All;

    /// <inheritdoc />
    public async Task<ImageIdentity?> PeekAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        var (file, manifest) = await ManifestAsync(image, cancellationToken).ConfigureAwait(false);
        return new ImageIdentity(file.Name, manifest.Digest);
    }

    /// <inheritdoc />
    public async Task<ResolvedImage> ResolveAsync(string image, PlatformSelection platforms, CancellationToken cancellationToken)
    {
        var (file, manifest) = await ManifestAsync(image, cancellationToken).ConfigureAwait(false);
        return await ImageResolver.ResolveAsync(file.Name, file.Name, new Store(manifest), platforms, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<Stream> OpenBlobAsync(TransferBlob blob, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(blob);
        if (!_paths.TryGetValue(blob.Descriptor.Digest, out var path))
        {
            throw new InvalidOperationException($"{blob.Descriptor.Digest} is not a file of this source");
        }

        try
        {
            return Task.FromResult<Stream>(new VerifyingReadStream(File.OpenRead(path), blob.Descriptor, path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{path}: {ex.Message}");
        }
    }

    private async Task<(FileArtifact File, ManifestDocument Manifest)> ManifestAsync(string key, CancellationToken cancellationToken)
    {
        var file = files.TryGetValue(key, out var found) ? found : throw new InvalidOperationException($"{key} is not a file of this source");
        var layer = await _layers.GetOrAdd(key, _ => new Lazy<Task<Descriptor>>(() => HashAsync(file, cancellationToken))).Value.ConfigureAwait(false);
        _paths.TryAdd(layer.Digest, file.Path);
        var bytes = file.BuildManifest(layer);
        return (file, ManifestDocument.Parse(bytes, MediaTypes.OciManifest, file.Name.ToString()));
    }

    private static async Task<Descriptor> HashAsync(FileArtifact file, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = new FileStream(file.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            long size = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                size += read;
            }

            return new Descriptor(file.MediaType, Digest.Parse("sha256:" + Convert.ToHexStringLower(hash.GetHashAndReset())), size);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{file.Path}: {ex.Message}");
        }
    }

    private sealed class Store(ManifestDocument manifest) : IManifestStore
    {
        public Task<ManifestDocument> GetTopAsync(CancellationToken cancellationToken) => Task.FromResult(manifest);

        public bool Has(Descriptor child) => false;

        public Task<ManifestDocument> GetManifestAsync(Descriptor child, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a file's artifact has no child manifests");

        public Task<ReadOnlyMemory<byte>> GetConfigAsync(Descriptor config, CancellationToken cancellationToken) => Task.FromResult(FileArtifact.EmptyConfig);
    }
}
