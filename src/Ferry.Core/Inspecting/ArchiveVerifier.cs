using System.Security.Cryptography;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Signing;

namespace Ferry.Inspecting;

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

    /// <summary>What the bundle's own signature (<c>index.json.sig</c>) is, when a key was given.</summary>
    public BundleSignatureState BundleSignature { get; init; } = BundleSignatureState.NotChecked;

    /// <summary>Each image's signature check, when a key was given (in archive order).</summary>
    public IReadOnlyList<Signing.ImageSignatureCheck> Signatures { get; init; } = [];

    /// <summary>How many artifacts (signatures, attestations, SBOMs) the archive carries with its images.</summary>
    public int Artifacts { get; init; }

    /// <summary>
    /// Index entries the archive lists but does not carry (<c>docker save</c> 25+ lists every platform of an image and
    /// holds the ones the Engine had). Not a fault: load, copy and inspect take the entries that are there.
    /// </summary>
    public IReadOnlyList<Descriptor> NotCarried { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    private bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, (nameof(IsValid), IsValid), (nameof(Images), Images), (nameof(Problems), Problems), (nameof(Blobs), Blobs), (nameof(BlobBytes), BlobBytes), (nameof(Compression), Compression), (nameof(Artifacts), Artifacts), (nameof(Omitted), Omitted), (nameof(NotCarried), NotCarried), (nameof(BundleSignature), BundleSignature), (nameof(Signatures), Signatures));
}

/// <summary>
/// Verifies any archive Ferry reads, through the same reader <c>load</c> uses (<see cref="ImageArchive"/>), so the
/// two accept and refuse the same archives: every blob stored under <c>blobs/</c> hashes to its name, every
/// descriptor reachable from the images is present with its size (layers a partial archive lists as omitted
/// excepted, and index entries the archive does not carry, which it notes), and every path of a <c>manifest.json</c> beside an <c>index.json</c> exists. A docker-archive's
/// layers are checked against the config's diff_ids while it is read. One fault is one problem.
/// </summary>
public static class ArchiveVerifier
{
    /// <summary>Verifies the archive or layout directory at <paramref name="path"/>.</summary>
    /// <param name="path">A file or a directory.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>What was found.</returns>
    /// <exception cref="InvalidInputException">The path does not exist.</exception>
    public static Task<VerifyResult> VerifyAsync(string path, CancellationToken cancellationToken = default) => VerifyAsync(path, null, cancellationToken);

    /// <summary>Verifies an archive, and with <paramref name="signatures"/> its signatures: the bundle's own first, then each image's.</summary>
    /// <param name="path">The archive.</param>
    /// <param name="signatures">The key and identity rule; <see langword="null"/> checks no signature.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>What was found; problems include every image no signature by the key vouches for.</returns>
    /// <exception cref="InvalidInputException">The archive does not exist.</exception>
    public static Task<VerifyResult> VerifyAsync(string path, Signing.SignaturePolicy? signatures, CancellationToken cancellationToken = default) => VerifyAsync(path, signatures, null, cancellationToken);

    /// <summary>Verifies an archive with the given limits, and with <paramref name="signatures"/> its signatures.</summary>
    /// <param name="path">The archive.</param>
    /// <param name="signatures">The key and identity rule; <see langword="null"/> checks no signature.</param>
    /// <param name="limits">How far the archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>What was found.</returns>
    /// <exception cref="InvalidInputException">The archive does not exist.</exception>
    public static async Task<VerifyResult> VerifyAsync(string path, Signing.SignaturePolicy? signatures, ArchiveLimits? limits, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new InvalidInputException($"{path} does not exist");
        }

        return await VerifyAsync(() => ImageArchive.OpenAsync(path, limits, cancellationToken), signatures, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Verifies an archive read from a stream (stdin, a pipe); it is copied into a temporary file first.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How messages name it.</param>
    /// <param name="cancellationToken">Cancels the verification.</param>
    /// <returns>What was found.</returns>
    public static Task<VerifyResult> VerifyAsync(Stream input, string displayName, CancellationToken cancellationToken = default) =>
        VerifyAsync(() => ImageArchive.OpenAsync(input, displayName, cancellationToken), null, cancellationToken);

    /// <summary>Verifies an archive read from a stream, and with <paramref name="signatures"/> its signatures.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How messages name it.</param>
    /// <param name="signatures">The key and identity rule; <see langword="null"/> checks no signature.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>What was found.</returns>
    public static Task<VerifyResult> VerifyAsync(Stream input, string displayName, Signing.SignaturePolicy? signatures, CancellationToken cancellationToken = default) =>
        VerifyAsync(input, displayName, signatures, null, cancellationToken);

    /// <summary>Verifies an archive read from a stream with the given limits, and with <paramref name="signatures"/> its signatures.</summary>
    /// <param name="input">The stream.</param>
    /// <param name="displayName">How messages name it.</param>
    /// <param name="signatures">The key and identity rule; <see langword="null"/> checks no signature.</param>
    /// <param name="limits">How far the archive may go before it is refused (<see langword="null"/>: <see cref="ArchiveLimits.Default"/>).</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>What was found.</returns>
    public static Task<VerifyResult> VerifyAsync(Stream input, string displayName, Signing.SignaturePolicy? signatures, ArchiveLimits? limits, CancellationToken cancellationToken = default) =>
        VerifyAsync(() => ImageArchive.OpenAsync(input, displayName, limits, cancellationToken), signatures, cancellationToken);

    private static async Task<VerifyResult> VerifyAsync(Func<Task<ImageArchive>> open, Signing.SignaturePolicy? signatures, CancellationToken cancellationToken)
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
            return await VerifyOpenedAsync(archive, signatures, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Verifies an archive already open (the up-to-date check reuses the one it read).</summary>
    internal static async Task<VerifyResult> VerifyOpenedAsync(ImageArchive archive, Signing.SignaturePolicy? signatures, CancellationToken cancellationToken)
    {
        {
            var problems = new List<string>();
            var bundle = signatures is null ? BundleSignatureState.NotChecked : await CheckBundleSignatureAsync(archive, signatures, problems, cancellationToken).ConfigureAwait(false);
            var broken = new HashSet<Digest>();
            var hashed = await HashStoredBlobsAsync(archive, problems, broken, cancellationToken).ConfigureAwait(false);
            var images = new List<ArchiveImage>();
            var reachable = new Dictionary<Digest, long>();
            var walk = new Walk(archive, problems, broken, reachable);
            foreach (var image in archive.Images)
            {
                images.Add(new ArchiveImage(image.Name ?? "(unnamed)", image.Top.Digest));
                await walk.CheckAsync(image.Top, image.Name ?? image.Top.Digest.ToString(), 0, cancellationToken).ConfigureAwait(false);
            }

            foreach (var artifact in archive.Artifacts)
            {
                await walk.CheckAsync(artifact.Descriptor, $"{artifact.Link.Repository}: artifact {artifact.Descriptor.Digest.Short}", 0, cancellationToken).ConfigureAwait(false);
            }

            if (archive.Format == "oci-layout" && archive.File.Contains(DockerManifestFile.FileName))
            {
                // Under a bundle signature, what docker load reads (manifest.json) must be what index.json pins.
                await CheckDockerManifestAsync(archive, problems, bundle == BundleSignatureState.Valid ? reachable : null, cancellationToken).ConfigureAwait(false);
            }

            var checks = signatures is null ? [] : await CheckImageSignaturesAsync(archive, signatures, bundle, problems, cancellationToken).ConfigureAwait(false);
            var bytes = hashed.Count > 0 ? hashed.Values.Sum() : reachable.Values.Sum();
            return new VerifyResult(images, Math.Max(hashed.Count, reachable.Count), bytes, archive.File.Compression, problems.Distinct().ToList())
            {
                Omitted = archive.Omitted.Count,
                BundleSignature = bundle,
                Signatures = checks,
                Artifacts = archive.Artifacts.Count,
                NotCarried = walk.NotCarried.DistinctBy(d => d.Digest).ToList(),
            };
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

    /// <summary>The walk from each image's top manifest: every descriptor present with its size, one problem per fault.</summary>
    private sealed class Walk(ImageArchive archive, List<string> problems, HashSet<Digest> broken, Dictionary<Digest, long> reachable)
    {
        public List<Descriptor> NotCarried { get; } = [];

        public async Task CheckAsync(Descriptor descriptor, string what, int depth, CancellationToken cancellationToken, bool fromIndex = false)
        {
            if (broken.Contains(descriptor.Digest) || depth > 8)
            {
                return; // already reported as corrupt: one fault, one problem
            }

            var isManifest = MediaTypes.IsIndex(descriptor.MediaType) || MediaTypes.IsImageManifest(descriptor.MediaType);
            if (!archive.Contains(descriptor.Digest))
            {
                if (fromIndex && isManifest)
                {
                    NotCarried.Add(descriptor); // an index entry the archive does not carry: the resolver's rule too
                }
                else if (isManifest || MediaTypes.IsImageConfig(descriptor.MediaType) || !archive.Omitted.ContainsKey(descriptor.Digest))
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
                foreach (var child in document.Manifests)
                {
                    await CheckAsync(child, what, depth + 1, cancellationToken, fromIndex: true).ConfigureAwait(false);
                }

                foreach (var child in (document.Config is null ? [] : new[] { document.Config }).Concat(document.Layers))
                {
                    await CheckAsync(child, what, depth + 1, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (FerryException ex)
            {
                broken.Add(descriptor.Digest);
                problems.Add($"{what}: {ex.Message}");
            }
        }
    }

    private static async Task<BundleSignatureState> CheckBundleSignatureAsync(ImageArchive archive, Signing.SignaturePolicy signatures, List<string> problems, CancellationToken cancellationToken)
    {
        BundleSignatureState state;
        try
        {
            state = await ArchiveSignatures.BundleAsync(archive, signatures.Key, cancellationToken).ConfigureAwait(false);
        }
        catch (FerryException ex)
        {
            problems.Add($"{Signing.BundleSignature.FileName}: {ex.Message}");
            return BundleSignatureState.Invalid;
        }

        if (state == BundleSignatureState.Invalid)
        {
            problems.Add($"{Signing.BundleSignature.FileName}: the bundle's signature does not verify with {signatures.Key.Path} (index.json changed after signing, or another key signed it)");
        }

        return state;
    }

    private static async Task<List<Signing.ImageSignatureCheck>> CheckImageSignaturesAsync(ImageArchive archive, Signing.SignaturePolicy signatures, BundleSignatureState bundle, List<string> problems, CancellationToken cancellationToken)
    {
        var checks = new List<Signing.ImageSignatureCheck>();
        foreach (var image in archive.Images)
        {
            Signing.ImageSignatureCheck check;
            try
            {
                check = await CheckImageSignatureAsync(archive, image, signatures, cancellationToken).ConfigureAwait(false);
            }
            catch (FerryException ex)
            {
                check = new Signing.ImageSignatureCheck(image.Name ?? image.Top.Digest.ToString(), image.Top.Digest, false, ex.Message);
            }

            if (!check.Verified && bundle == BundleSignatureState.Valid)
            {
                check = check with { Verified = true, Detail = $"vouched for by the bundle's signature; its own: {check.Detail}" };
            }

            if (!check.Verified)
            {
                problems.Add($"{check.Image}: not verified: {check.Detail}");
            }

            checks.Add(check);
        }

        return checks;
    }

    /// <summary>One archived image's own signatures, checked against the key.</summary>
    private static async Task<Signing.ImageSignatureCheck> CheckImageSignatureAsync(ImageArchive archive, ArchivedImage image, Signing.SignaturePolicy signatures, CancellationToken cancellationToken)
    {
        var platforms = new List<Digest>();
        if (MediaTypes.IsIndex(image.Top.MediaType))
        {
            var top = await archive.ReadManifestAsync(image.Top, cancellationToken).ConfigureAwait(false);
            platforms.AddRange(top.Manifests.Where(m => MediaTypes.IsImageManifest(m.MediaType) && archive.Contains(m.Digest) && m.Platform is not { Os: "unknown" }).Select(m => m.Digest));
        }

        var artifacts = image.Name is { } name && ImageReference.TryParse(name, out var parsed, out _)
            ? await Transfer.Sources.ArchiveSource.ArtifactsOfAsync(archive, parsed!.Name, platforms.Append(image.Top.Digest).ToHashSet(), cancellationToken).ConfigureAwait(false)
            : [];
        return await ArchiveSignatures.ImageAsync(archive, image.Name, image.Top.Digest, platforms, artifacts, signatures, cancellationToken).ConfigureAwait(false);
    }

    private static async Task CheckDockerManifestAsync(ImageArchive archive, List<string> problems, Dictionary<Digest, long>? pinned, CancellationToken cancellationToken)
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
                else if (pinned is not null && !(path.StartsWith("blobs/sha256/", StringComparison.Ordinal) && Digest.TryParse("sha256:" + path["blobs/sha256/".Length..], out var blob) && pinned.ContainsKey(blob)))
                {
                    problems.Add($"manifest.json: \"{path}\" is not pinned by the signed index.json (docker load would read unsigned content)");
                }
            }
        }
        catch (FerryException ex)
        {
            problems.Add(ex.Message);
        }
    }
}
