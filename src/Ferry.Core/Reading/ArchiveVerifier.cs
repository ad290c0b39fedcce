using System.Security.Cryptography;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Reading;

/// <summary>One image an archive names.</summary>
/// <param name="Name">Its name in the archive, or <c>(unnamed)</c>.</param>
/// <param name="Digest">The digest of its manifest or index.</param>
public sealed record ArchiveImage(string Name, Digest Digest);

/// <summary>The outcome of verifying an archive.</summary>
/// <param name="Images">The images the archive names.</param>
/// <param name="Blobs">How many blobs were hashed.</param>
/// <param name="BlobBytes">Their total size.</param>
/// <param name="Compression">The outer compression detected.</param>
/// <param name="Problems">Everything wrong, one line per fault; empty when the archive is sound.</param>
public sealed record VerifyResult(IReadOnlyList<ArchiveImage> Images, int Blobs, long BlobBytes, string Compression, IReadOnlyList<string> Problems)
{
    /// <summary>Layers a partial archive lists as left out on purpose (<c>ferry-partial.json</c>).</summary>
    public int Omitted { get; init; }

    /// <summary>Whether the archive is sound.</summary>
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// Verifies any archive Ferry reads, through the same reader <c>load</c> uses (<see cref="ImageArchive"/>), so the
/// two accept and refuse the same archives: every blob stored under <c>blobs/</c> hashes to its name, every
/// descriptor reachable from the images is present with its size (layers a partial archive lists as omitted
/// excepted), and every path of a <c>manifest.json</c> beside an <c>index.json</c> exists. A docker-archive's
/// layers are checked against the config's diff_ids while it is read. One fault is one problem.
/// </summary>
public static class ArchiveVerifier
{
    /// <summary>Verifies the archive or layout directory at <paramref name="path"/>.</summary>
    /// <param name="path">A file or a directory.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>What was found.</returns>
    /// <exception cref="InvalidInputException">The path does not exist.</exception>
    public static async Task<VerifyResult> VerifyAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new InvalidInputException($"{path} does not exist");
        }

        return await VerifyAsync(() => ImageArchive.OpenAsync(path, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Verifies an archive read from a stream (stdin, a pipe); it is copied into a temporary file first.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How messages name it.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>What was found.</returns>
    public static Task<VerifyResult> VerifyAsync(Stream input, string displayName, CancellationToken cancellationToken = default) =>
        VerifyAsync(() => ImageArchive.OpenAsync(input, displayName, cancellationToken), cancellationToken);

    private static async Task<VerifyResult> VerifyAsync(Func<Task<ImageArchive>> open, CancellationToken cancellationToken)
    {
        ImageArchive archive;
        try
        {
            archive = await open().ConfigureAwait(false);
        }
        catch (FerryException ex)
        {
            return new VerifyResult([], 0, 0, "unknown", [ex.Message]);
        }

        using (archive)
        {
            return await VerifyOpenedAsync(archive, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Verifies an archive already open (the up-to-date check reuses the one it read).</summary>
    internal static async Task<VerifyResult> VerifyOpenedAsync(ImageArchive archive, CancellationToken cancellationToken)
    {
        {
            var problems = new List<string>();
            var broken = new HashSet<Digest>();
            var hashed = await HashStoredBlobsAsync(archive, problems, broken, cancellationToken).ConfigureAwait(false);
            var images = new List<ArchiveImage>();
            var reachable = new Dictionary<Digest, long>();
            foreach (var image in archive.Images)
            {
                images.Add(new ArchiveImage(image.Name ?? "(unnamed)", image.Top.Digest));
                await CheckReachableAsync(archive, image.Top, image.Name ?? image.Top.Digest.ToString(), 0, problems, broken, reachable, cancellationToken).ConfigureAwait(false);
            }

            if (archive.Format == "oci-layout" && archive.File.Contains(DockerManifestFile.FileName))
            {
                await CheckDockerManifestAsync(archive, problems, cancellationToken).ConfigureAwait(false);
            }

            var bytes = hashed.Count > 0 ? hashed.Values.Sum() : reachable.Values.Sum();
            return new VerifyResult(images, Math.Max(hashed.Count, reachable.Count), bytes, archive.File.Compression, problems.Distinct().ToList()) { Omitted = archive.Omitted.Count };
        }
    }

    /// <summary>Hashes every file under <c>blobs/</c> against its name (a layout's content), side by side on all cores.</summary>
    private static async Task<Dictionary<Digest, long>> HashStoredBlobsAsync(ImageArchive archive, List<string> problems, HashSet<Digest> broken, CancellationToken cancellationToken)
    {
        var sizes = new System.Collections.Concurrent.ConcurrentDictionary<Digest, long>();
        var found = new System.Collections.Concurrent.ConcurrentBag<(string Name, string Problem, Digest? Digest)>();
        var names = archive.File.Names.Where(n => n.StartsWith("blobs/", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellationToken }, async (name, token) =>
        {
            var parts = name.Split('/');
            if (parts.Length != 3 || !Digest.TryParse($"{parts[1]}:{parts[2]}", out var digest) || digest.Algorithm != "sha256")
            {
                found.Add((name, $"{name} is not named by a sha256 digest", null));
                return;
            }

            await using var stream = archive.File.Open(name);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(1 << 20);
            long total = 0;
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer, token).ConfigureAwait(false)) > 0)
                {
                    hash.AppendData(buffer, 0, n);
                    total += n;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != digest.Hex)
            {
                found.Add((name, $"{name}: content hashes to sha256:{actual} (corrupt)", digest));
                return;
            }

            sizes[digest] = total;
        }).ConfigureAwait(false);

        foreach (var (_, problem, digest) in found.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            problems.Add(problem);
            if (digest is { } d)
            {
                broken.Add(d);
            }
        }

        return new Dictionary<Digest, long>(sizes);
    }

    private static async Task CheckReachableAsync(ImageArchive archive, Descriptor descriptor, string what, int depth, List<string> problems, HashSet<Digest> broken, Dictionary<Digest, long> reachable, CancellationToken cancellationToken)
    {
        if (broken.Contains(descriptor.Digest) || depth > 8)
        {
            return; // already reported as corrupt: one fault, one problem
        }

        var isManifest = MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType);
        if (!archive.Contains(descriptor.Digest))
        {
            if (isManifest || MediaTypes.IsImageConfig(descriptor.MediaType) || !archive.Omitted.ContainsKey(descriptor.Digest))
            {
                problems.Add($"{what}: blob {descriptor.Digest} is missing");
            }

            return;
        }

        try
        {
            if (!isManifest)
            {
                // Opening checks the size against the descriptor before a byte is read.
                await using (archive.OpenBlob(descriptor))
                {
                }

                reachable[descriptor.Digest] = descriptor.Size;
                return;
            }

            var document = await archive.ReadManifestAsync(descriptor, cancellationToken).ConfigureAwait(false);
            reachable[descriptor.Digest] = descriptor.Size;
            foreach (var child in document.Manifests.Concat(document.Config is null ? [] : [document.Config]).Concat(document.Layers))
            {
                await CheckReachableAsync(archive, child, what, depth + 1, problems, broken, reachable, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FerryException ex)
        {
            broken.Add(descriptor.Digest);
            problems.Add($"{what}: {ex.Message}");
        }
    }

    private static async Task CheckDockerManifestAsync(ImageArchive archive, List<string> problems, CancellationToken cancellationToken)
    {
        try
        {
            var items = DockerManifestFile.Read(await archive.File.ReadSmallAsync(DockerManifestFile.FileName, ImageArchiveReader.MaxJsonBytes, cancellationToken).ConfigureAwait(false), archive.File.Path);
            foreach (var path in items.SelectMany(i => i.Layers.Prepend(i.Config)))
            {
                var omitted = path.StartsWith("blobs/sha256/", StringComparison.Ordinal) && Digest.TryParse("sha256:" + path["blobs/sha256/".Length..], out var d) && archive.Omitted.ContainsKey(d);
                if (!omitted && !archive.File.Contains(path))
                {
                    problems.Add($"manifest.json: \"{path}\" is not in the archive");
                }
            }
        }
        catch (FerryException ex)
        {
            problems.Add(ex.Message);
        }
    }
}
