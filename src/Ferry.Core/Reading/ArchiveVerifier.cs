using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Reading;

/// <summary>One image an archive names.</summary>
/// <param name="Name">The name from <c>io.containerd.image.name</c> (or <c>ref.name</c>).</param>
/// <param name="Digest">The digest the index entry points at.</param>
public sealed record ArchiveImage(string Name, Digest Digest);

/// <summary>The outcome of verifying an archive.</summary>
/// <param name="Images">The images <c>index.json</c> names.</param>
/// <param name="Blobs">How many blobs were hashed.</param>
/// <param name="BlobBytes">Their total size.</param>
/// <param name="Compression">The outer compression detected.</param>
/// <param name="Problems">Everything wrong; empty when the archive is sound.</param>
public sealed record VerifyResult(IReadOnlyList<ArchiveImage> Images, int Blobs, long BlobBytes, string Compression, IReadOnlyList<string> Problems)
{
    /// <summary>Layers a partial archive lists as left out on purpose (<c>ferry-partial.json</c>).</summary>
    public int Omitted { get; init; }

    /// <summary>Whether the archive is sound.</summary>
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// Verifies a Ferry archive — tar, gzip- or zstd-compressed tar (detected by content, not name), or a
/// directory layout: every blob's bytes hash to its name, and every descriptor reachable from
/// <c>index.json</c> and every path in <c>manifest.json</c> is present with the right size. Reading is
/// streaming and extracts nothing; JSON documents are read with a size cap.
/// </summary>
public static class ArchiveVerifier
{
    private const int MaxJsonBytes = 4 * 1024 * 1024;
    private const long MaxRetainedBytes = 256L * 1024 * 1024;

    /// <summary>Verifies the archive or layout directory at <paramref name="path"/>.</summary>
    /// <param name="path">A file or a directory.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>What was found.</returns>
    /// <exception cref="InvalidInputException">The path does not exist or is not an archive at all.</exception>
    public static async Task<VerifyResult> VerifyAsync(string path, CancellationToken cancellationToken = default)
    {
        var content = new ArchiveContent();
        string compression;
        if (Directory.Exists(path))
        {
            compression = "directory";
            await ReadDirectoryAsync(path, content, cancellationToken).ConfigureAwait(false);
        }
        else if (File.Exists(path))
        {
            await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            (var stream, compression) = OpenDecompressed(file);
            await using (stream.ConfigureAwait(false))
            {
                await ReadTarAsync(stream, content, cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            throw new InvalidInputException($"{path} does not exist");
        }

        if (!content.Json.ContainsKey("index.json") && content.Json.ContainsKey("manifest.json"))
        {
            return await VerifyDockerArchiveAsync(path, compression, cancellationToken).ConfigureAwait(false);
        }

        var images = CheckReferences(content);
        return new VerifyResult(images, content.Blobs.Count, content.Blobs.Values.Sum(), compression, content.Problems) { Omitted = content.Omitted.Count };
    }

    /// <summary>
    /// A docker-archive (docker save 20.10, skopeo/podman docker-archive, crane): reading it checks every
    /// config, computes every layer's digest and checks it against the config's diff_ids.
    /// </summary>
    private static async Task<VerifyResult> VerifyDockerArchiveAsync(string path, string compression, CancellationToken cancellationToken)
    {
        try
        {
            using var archive = await ImageArchive.OpenAsync(path, cancellationToken).ConfigureAwait(false);
            var images = new List<ArchiveImage>();
            var blobs = new Dictionary<Digest, long>();
            foreach (var image in archive.Images)
            {
                images.Add(new ArchiveImage(image.Name ?? "(unnamed)", image.Top.Digest));
                foreach (var descriptor in await archive.WalkAsync(image.Top, cancellationToken).ConfigureAwait(false))
                {
                    blobs[descriptor.Digest] = descriptor.Size;
                }
            }

            return new VerifyResult(images, blobs.Count, blobs.Values.Sum(), compression, []);
        }
        catch (FerryException ex)
        {
            return new VerifyResult([], 0, 0, compression, [ex.Message]);
        }
    }

    private static (Stream Stream, string Compression) OpenDecompressed(FileStream file)
    {
        Span<byte> magic = stackalloc byte[4];
        var n = file.Read(magic);
        file.Position = 0;
        if (n >= 3 && magic[0] == 0x1f && magic[1] == 0x8b && magic[2] == 0x08)
        {
            return (new GZipStream(file, CompressionMode.Decompress, leaveOpen: true), "gzip");
        }

        if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        {
            return (new ZstdSharp.DecompressionStream(file, leaveOpen: true), "zstd");
        }

        return (new ForwardOnlyStream(file), "none");
    }

    private static async Task ReadTarAsync(Stream stream, ArchiveContent content, CancellationToken cancellationToken)
    {
        using var reader = new TarReader(stream, leaveOpen: true);
        while (true)
        {
            TarEntry? entry;
            try
            {
                entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException or IOException)
            {
                content.Problems.Add($"archive is truncated or corrupt: {ex.Message}");
                return;
            }

            if (entry is null)
            {
                return;
            }

            var name = Normalize(entry.Name);
            if (name is null)
            {
                content.Problems.Add($"entry \"{entry.Name}\" escapes the archive (absolute path or ..)");
                continue;
            }

            if (entry.EntryType is TarEntryType.Directory)
            {
                continue;
            }

            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile))
            {
                content.Problems.Add($"entry \"{name}\" is a {entry.EntryType}, not a regular file");
                continue;
            }

            try
            {
                await content.AddAsync(name, entry.DataStream ?? Stream.Null, entry.Length, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or IOException)
            {
                content.Problems.Add($"archive is truncated or corrupt in \"{name}\": {ex.Message}");
                return;
            }
        }
    }

    private static async Task ReadDirectoryAsync(string root, ArchiveContent content, CancellationToken cancellationToken)
    {
        foreach (var name in new[] { "index.json", "manifest.json", "oci-layout" })
        {
            var path = Path.Combine(root, name);
            if (File.Exists(path) && new FileInfo(path).LinkTarget is null)
            {
                await using var stream = File.OpenRead(path);
                await content.AddAsync(name, stream, stream.Length, cancellationToken).ConfigureAwait(false);
            }
        }

        var blobs = Path.Combine(root, "blobs");
        if (!Directory.Exists(blobs))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(blobs, "*", SearchOption.AllDirectories))
        {
            var info = new FileInfo(file);
            var name = Path.GetRelativePath(root, file).Replace('\\', '/');
            if (info.LinkTarget is not null || (info.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) != 0)
            {
                content.Problems.Add($"{name} is a link or a special file; refused");
                continue;
            }

            await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
            await content.AddAsync(name, stream, stream.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string? Normalize(string name)
    {
        var trimmed = name.StartsWith("./", StringComparison.Ordinal) ? name[2..] : name;
        if (trimmed.StartsWith('/') || trimmed.Split('/').Any(part => part == ".."))
        {
            return null;
        }

        return trimmed.TrimEnd('/');
    }

    private static List<ArchiveImage> CheckReferences(ArchiveContent content)
    {
        var images = new List<ArchiveImage>();
        if (!content.Json.TryGetValue("oci-layout", out _))
        {
            content.Problems.Add("oci-layout is missing");
        }

        if (content.Json.TryGetValue(Archives.ImageLayout.PartialFileName, out var partial))
        {
            try
            {
                content.Omitted.UnionWith(Saving.Exclusions.ParsePartialJson(partial).Select(o => o.Digest));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FerryException)
            {
                content.Problems.Add($"{Archives.ImageLayout.PartialFileName} is invalid: {ex.Message}");
            }
        }

        if (!content.Json.TryGetValue("index.json", out var indexBytes))
        {
            content.Problems.Add("index.json is missing");
            return images;
        }

        ManifestDocument index;
        try
        {
            index = ManifestDocument.Parse(indexBytes, MediaTypes.OciIndex, "index.json");
            using var document = JsonDocument.Parse(indexBytes);
            var entries = document.RootElement.GetProperty("manifests").EnumerateArray().ToList();
            for (var i = 0; i < entries.Count; i++)
            {
                var name = entries[i].TryGetProperty("annotations", out var a) && a.ValueKind == JsonValueKind.Object
                    ? (a.TryGetProperty("io.containerd.image.name", out var n) ? n.GetString() : a.TryGetProperty("org.opencontainers.image.ref.name", out var r) ? r.GetString() : null)
                    : null;
                images.Add(new ArchiveImage(name ?? "(unnamed)", index.Manifests[i].Digest));
            }
        }
        catch (Exception ex) when (ex is FerryException or JsonException or InvalidOperationException or KeyNotFoundException)
        {
            content.Problems.Add($"index.json is invalid: {ex.Message}");
            return images;
        }

        foreach (var entry in index.Manifests)
        {
            CheckDescriptor(content, entry, entry.Digest.ToString(), depth: 0);
        }

        if (content.Json.TryGetValue("manifest.json", out var manifestJson))
        {
            CheckDockerManifest(content, manifestJson);
        }

        return images;
    }

    private static void CheckDescriptor(ArchiveContent content, Descriptor descriptor, string what, int depth)
    {
        if (!content.Blobs.TryGetValue(descriptor.Digest.LayoutPath, out var size))
        {
            if (!content.Omitted.Contains(descriptor.Digest) || MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType) || MediaTypes.IsImageConfig(descriptor.MediaType))
            {
                content.Problems.Add($"{what}: blob {descriptor.Digest} is missing");
            }

            return;
        }

        if (size != descriptor.Size)
        {
            content.Problems.Add($"{what}: blob {descriptor.Digest} has {size} bytes, its descriptor says {descriptor.Size}");
            return;
        }

        if (!(MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType)) || depth > 4)
        {
            return;
        }

        if (!content.Json.TryGetValue(descriptor.Digest.LayoutPath, out var bytes))
        {
            content.Problems.Add($"{what}: manifest {descriptor.Digest} could not be read");
            return;
        }

        try
        {
            var document = ManifestDocument.Parse(bytes, descriptor.MediaType, descriptor.Digest.ToString());
            foreach (var child in document.Manifests.Concat(document.Config is null ? [] : [document.Config]).Concat(document.Layers))
            {
                CheckDescriptor(content, child, what, depth + 1);
            }
        }
        catch (FerryException ex)
        {
            content.Problems.Add($"{what}: {ex.Message}");
        }
    }

    private static void CheckDockerManifest(ArchiveContent content, byte[] json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowDuplicateProperties = false });
            foreach (var item in document.RootElement.EnumerateArray())
            {
                var paths = new List<string?> { item.GetProperty("Config").GetString() };
                paths.AddRange(item.GetProperty("Layers").EnumerateArray().Select(l => l.GetString()));
                foreach (var path in paths)
                {
                    var normalized = path is null ? null : Normalize(path);
                    var omitted = normalized is not null && normalized.StartsWith("blobs/sha256/", StringComparison.Ordinal) &&
                                  Digest.TryParse("sha256:" + normalized["blobs/sha256/".Length..], out var d) && content.Omitted.Contains(d);
                    if (!omitted && (normalized is null || !content.Blobs.ContainsKey(normalized)))
                    {
                        content.Problems.Add($"manifest.json: \"{path}\" is not in the archive");
                    }
                }
            }
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException)
        {
            content.Problems.Add($"manifest.json is invalid: {ex.Message}");
        }
    }

    /// <summary>What has been read: blob sizes by path, small JSON documents, problems.</summary>
    private sealed class ArchiveContent
    {
        private long _retained;

        public Dictionary<string, long> Blobs { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, byte[]> Json { get; } = new(StringComparer.Ordinal);

        public List<string> Problems { get; } = [];

        public HashSet<Digest> Omitted { get; } = [];

        public async Task AddAsync(string name, Stream data, long length, CancellationToken cancellationToken)
        {
            var isBlob = name.StartsWith("blobs/", StringComparison.Ordinal);
            var keep = length <= MaxJsonBytes && _retained + length <= MaxRetainedBytes;
            if (!isBlob && !keep)
            {
                Problems.Add($"{name} is larger than {MaxJsonBytes} bytes; refused");
                return;
            }

            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var retained = keep ? new MemoryStream((int)length) : null;
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            long total = 0;
            try
            {
                int n;
                while ((n = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    retained?.Write(buffer, 0, n);
                    total += n;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            if (total != length)
            {
                Problems.Add($"{name}: {total} of {length} bytes (truncated)");
                return;
            }

            if (retained is not null && (!isBlob || (total > 0 && retained.GetBuffer()[0] == (byte)'{')))
            {
                Json[name] = retained.ToArray();
                _retained += total;
            }

            if (!isBlob)
            {
                return;
            }

            var parts = name.Split('/');
            if (parts.Length != 3 || !Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest) || digest.Algorithm != "sha256")
            {
                Problems.Add($"{name} is not named by a sha256 digest");
                return;
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != digest.Hex)
            {
                Problems.Add($"{name}: content hashes to sha256:{actual} (corrupt)");
                return;
            }

            if (!Blobs.TryAdd(name, total))
            {
                Problems.Add($"{name} appears twice");
            }
        }
    }
}
