using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Loading;
using Ferry.Oci;
using Ferry.References;
using Ferry.Referrers;
using Ferry.Registry;
using Ferry.Saving;

namespace Ferry.Transfer.Sinks;

/// <summary>What a registry sink pushed.</summary>
/// <param name="Images">Each image pushed, in request order (those that could not be pushed are in <see cref="SinkReport.Failed"/>).</param>
public sealed record RegistryReport(IReadOnlyList<PushedImage> Images) : SinkReport
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder) => Diagnostics.Printed.Members(builder, (nameof(Images), Images), (nameof(Failed), Failed));
}

/// <summary>One image pushed.</summary>
/// <param name="Position">Its 1-based position in the request.</param>
/// <param name="Target">Where it went.</param>
/// <param name="Digest">The digest of its manifest or index, as pushed.</param>
/// <param name="Uploaded">Blobs uploaded for it.</param>
/// <param name="Mounted">Blobs mounted from another repository of the registry.</param>
/// <param name="Existing">Blobs the repository already had.</param>
/// <param name="UploadedBytes">Bytes uploaded for it.</param>
public sealed record PushedImage(int Position, ImageReference Target, Digest Digest, int Uploaded, int Mounted, int Existing, long UploadedBytes);

/// <summary>
/// Pushes images into a registry with their bytes unchanged, so every manifest digest equals the source's. Each
/// distinct blob is decided once per run: its first repository gets it by <c>HEAD</c> (already there), a cross-repository
/// mount (from the source repository when the source is the same registry, or from where a partial archive's left-out
/// layer was found) or one streaming upload; every other repository that needs it then mounts it from there. Child
/// manifests go before their index, the tag last; one failing image does not stop the others.
/// </summary>
/// <param name="registry">The registry client (credentials with push scope).</param>
/// <param name="targetFor">Where an image goes, from its name.</param>
/// <param name="mountFrom">A repository of the target registry that holds left-out layers (<c>--mount-from</c>).</param>
public sealed class RegistrySink(RegistryClient registry, Func<ImageReference, ImageReference> targetFor, string? mountFrom = null) : IImageSink<RegistryReport>, IIncrementalSink
{
    private enum BlobOutcome
    {
        Existing,
        Mounted,
        Uploaded,
    }

    /// <summary>Whether the images' signatures, attestations and SBOMs are pushed after them (default); <see langword="false"/> pushes the images alone.</summary>
    public bool PushReferrers { get; init; } = true;

    /// <inheritdoc />
    public bool AcceptsPartial => false;

    /// <inheritdoc />
    /// <remarks>One <c>HEAD</c> of the target tag: an image already there at the source's digest is not pushed again (nor its referrers).</remarks>
    public async Task<ImageReference?> FindHeldAsync(ImageIdentity image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        var target = targetFor(image.Name);
        return await registry.ManifestDigestAsync(target, target.ManifestReference, cancellationToken).ConfigureAwait(false) == image.Digest ? target : null;
    }

    /// <inheritdoc />
    public async Task<SinkReport> WriteAsync(TransferPlan plan, TransferContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        var run = new Run(registry, context, plan) { PushReferrers = PushReferrers };
        await run.LocateLeftOutAsync(targetFor, mountFrom, cancellationToken).ConfigureAwait(false);
        var pushed = new ConcurrentBag<PushedImage>();
        var failed = new ConcurrentBag<FailedImage>();
        await Parallel.ForEachAsync(plan.Images, new ParallelOptions { MaxDegreeOfParallelism = context.Jobs, CancellationToken = cancellationToken }, async (planned, token) =>
        {
            try
            {
                var image = await run.PushImageAsync(planned, targetFor(planned.Image.Reference), token).ConfigureAwait(false);
                pushed.Add(image);
                context.Report(new ImagePushedEvent(planned, image));
            }
            catch (FerryException ex)
            {
                var failure = FailedImage.From(planned.Requested, planned.Position, ex);
                failed.Add(failure);
                context.Report(new ImageFailedEvent(failure, plan.RequestedCount));
            }
        }).ConfigureAwait(false);

        return new RegistryReport(pushed.OrderBy(p => p.Position).ToList()) { Failed = failed.OrderBy(f => f.Position).ToList() };
    }

    /// <summary>The state of one run: where each blob lives at the target, decided once.</summary>
    private sealed class Run(RegistryClient registry, TransferContext context, TransferPlan plan)
    {
        private readonly ConcurrentDictionary<Digest, Lazy<Task<(string Repository, BlobOutcome Outcome)>>> _homes = new();
        private readonly ConcurrentDictionary<(string Repository, Digest Digest), Lazy<Task<BlobOutcome>>> _placed = new();
        private readonly Dictionary<Digest, string> _leftOutAt = [];
        private readonly Dictionary<Digest, TransferBlob> _blobs = plan.Blobs.ToDictionary(b => b.Descriptor.Digest);
        private readonly SemaphoreSlim _transfers = new(context.Concurrency);
        private readonly ConcurrentDictionary<string, SemaphoreSlim> _fallbackTags = new(StringComparer.Ordinal);

        public bool PushReferrers { get; init; } = true;

        /// <summary>
        /// Before anything is pushed: every layer the source leaves out must be at the target already — in the image's
        /// target repository, in the excluded image's repository under the same prefix, in the excluded image's own
        /// repository when it is on the target registry, or in <c>--mount-from</c>. Otherwise nothing is pushed.
        /// </summary>
        public async Task LocateLeftOutAsync(Func<ImageReference, ImageReference> targetFor, string? mountFrom, CancellationToken cancellationToken)
        {
            if (plan.Omitted.Count == 0)
            {
                return;
            }

            var missing = new List<string>();
            var looked = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var omitted in plan.Omitted)
            {
                var users = plan.Images.Where(p => p.Image.LayerDescriptors.Any(l => l.Digest == omitted.Digest)).ToList();
                var target = targetFor(users[0].Image.Reference);
                var places = new List<ImageReference> { target };
                if (omitted.ExcludedImage is { } excluded && ImageReference.TryParse(excluded, out var excludedRef, out _))
                {
                    places.Add(targetFor(excludedRef!));
                    if (excludedRef!.Registry == target.Registry)
                    {
                        places.Add(excludedRef);
                    }
                }

                if (mountFrom is not null)
                {
                    places.Add(ImageReference.Parse($"{target.Registry}/{mountFrom}:x"));
                }

                var descriptor = new Descriptor(omitted.MediaType, omitted.Digest, omitted.Size);
                string? found = null;
                foreach (var place in places.DistinctBy(p => p.Name))
                {
                    looked.Add(place.Name);
                    if (await registry.BlobExistsAsync(place, descriptor, cancellationToken).ConfigureAwait(false))
                    {
                        found = place.Repository;
                        break;
                    }
                }

                if (found is null)
                {
                    missing.Add($"{omitted.Digest.Short} of {users[0].Image.Reference} (from {omitted.ExcludedBy})");
                }
                else
                {
                    _leftOutAt[omitted.Digest] = found;
                }
            }

            if (missing.Count > 0)
            {
                throw new InvalidInputException($"the partial archive leaves out {missing.Count} layer(s) that the target does not have; nothing was pushed. Looked in {string.Join(", ", looked)}. Missing: {string.Join(", ", missing.Distinct().Take(10))}{(missing.Count > 10 ? ", …" : string.Empty)}. Load the excluded images first, or name the repository that holds them (MountFrom)");
            }
        }

        public async Task<PushedImage> PushImageAsync(PlannedImage planned, ImageReference target, CancellationToken cancellationToken)
        {
            var image = planned.Image;
            var layers = image.Platforms.SelectMany(p => p.Manifest.Layers.Prepend(p.Manifest.Config!)).DistinctBy(d => d.Digest).ToList();
            var outcomes = await Task.WhenAll(layers.Select(d => EnsureAsync(target, d, cancellationToken))).ConfigureAwait(false);

            // Children first, the top last, under its tag (or its digest when it has none).
            foreach (var platform in image.Platforms.Where(p => p.Manifest.Digest != image.Top.Digest).DistinctBy(p => p.Manifest.Digest))
            {
                await registry.PutManifestAsync(target, platform.Manifest.Digest.ToString(), platform.Manifest.Content, platform.Manifest.MediaType, cancellationToken).ConfigureAwait(false);
            }

            var digest = await registry.PutManifestAsync(target, target.Tag ?? image.Top.Digest.ToString(), image.Top.Content, image.Top.MediaType, cancellationToken).ConfigureAwait(false);
            if (PushReferrers)
            {
                await PushArtifactsAsync(image, target, cancellationToken).ConfigureAwait(false);
            }
            var uploadedBytes = layers.Zip(outcomes).Where(p => p.Second == BlobOutcome.Uploaded).Sum(p => p.First.Size);
            return new PushedImage(planned.Position, target, digest, outcomes.Count(o => o == BlobOutcome.Uploaded), outcomes.Count(o => o == BlobOutcome.Mounted), outcomes.Count(o => o == BlobOutcome.Existing), uploadedBytes);
        }

        /// <summary>
        /// After the image: its signatures, attestations and SBOMs, byte for byte — under cosign's tag when they had one,
        /// else by digest as referrers. A registry that does not index a pushed <c>subject</c> (no <c>OCI-Subject</c> in
        /// its answer) gets the referrers API's fallback tag, an index of the subject's referrers, updated.
        /// </summary>
        private async Task PushArtifactsAsync(ResolvedImage image, ImageReference target, CancellationToken cancellationToken)
        {
            var unindexed = new List<ReferrerArtifact>();
            foreach (var artifact in image.Artifacts)
            {
                await Task.WhenAll(artifact.Blobs.DistinctBy(d => d.Digest).Select(d => EnsureAsync(target, d, cancellationToken))).ConfigureAwait(false);
                var (_, indexed) = await registry.PutManifestReportingSubjectAsync(target, artifact.Tag ?? artifact.Manifest.Digest.ToString(), artifact.Manifest.Content, artifact.Manifest.MediaType, cancellationToken).ConfigureAwait(false);
                if (artifact.Tag is null && artifact.Manifest.Subject is not null && !indexed)
                {
                    unindexed.Add(artifact);
                }
            }

            foreach (var group in unindexed.GroupBy(a => a.Subject))
            {
                var gate = _fallbackTags.GetOrAdd($"{target.Name}@{group.Key}", _ => new SemaphoreSlim(1));
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await UpdateFallbackTagAsync(target, group.Key, group.ToList(), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    gate.Release();
                }
            }
        }

        private async Task UpdateFallbackTagAsync(ImageReference target, Digest subject, IReadOnlyList<ReferrerArtifact> artifacts, CancellationToken cancellationToken)
        {
            var tag = ReferrerArtifact.FallbackTag(subject);
            var existing = await registry.TryGetManifestAsync(target, tag, cancellationToken).ConfigureAwait(false);
            var entries = existing is { IsIndex: true } ? ReferrersIndex.Read(existing.Content, $"{target.Name}:{tag}").ToList() : [];
            var added = artifacts.Where(a => entries.All(e => e.Descriptor.Digest != a.Manifest.Digest)).Select(ReferrersIndex.EntryFor).ToList();
            if (added.Count > 0)
            {
                await registry.PutManifestAsync(target, tag, ReferrersIndex.Build(entries.Concat(added)), MediaTypes.OciIndex, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>The blob in the target repository: decided once per digest for the run, then mounted wherever else it is needed.</summary>
        private async Task<BlobOutcome> EnsureAsync(ImageReference target, Descriptor descriptor, CancellationToken cancellationToken)
        {
            var home = await _homes.GetOrAdd(descriptor.Digest, _ => new Lazy<Task<(string, BlobOutcome)>>(() => PlaceFirstAsync(target, descriptor, cancellationToken))).Value.ConfigureAwait(false);
            if (home.Repository == target.Repository)
            {
                return home.Outcome;
            }

            return await _placed.GetOrAdd((target.Repository, descriptor.Digest), _ => new Lazy<Task<BlobOutcome>>(() => PlaceAgainAsync(target, descriptor, home.Repository, cancellationToken))).Value.ConfigureAwait(false);
        }

        private async Task<(string Repository, BlobOutcome Outcome)> PlaceFirstAsync(ImageReference target, Descriptor descriptor, CancellationToken cancellationToken)
        {
            var placed = await PlaceFirstCoreAsync(target, descriptor, cancellationToken).ConfigureAwait(false);
            if (_blobs.TryGetValue(descriptor.Digest, out var blob))
            {
                context.BlobDone(blob);
            }

            return placed;
        }

        private async Task<(string Repository, BlobOutcome Outcome)> PlaceFirstCoreAsync(ImageReference target, Descriptor descriptor, CancellationToken cancellationToken)
        {
            await _transfers.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (await registry.BlobExistsAsync(target, descriptor, cancellationToken).ConfigureAwait(false))
                {
                    return (target.Repository, BlobOutcome.Existing);
                }

                // A layer the source left out was found at the target before anything moved; so is one the source
                // registry itself holds when source and target are the same registry (a copy within it).
                var from = _leftOutAt.TryGetValue(descriptor.Digest, out var leftOut) ? leftOut
                    : _blobs.TryGetValue(descriptor.Digest, out var blob) && blob.Source is { } source && source.Registry == target.Registry && source.Repository != target.Repository ? source.Repository
                    : null;
                if (from is not null && await registry.MountBlobAsync(target, descriptor, from, cancellationToken).ConfigureAwait(false))
                {
                    return (target.Repository, BlobOutcome.Mounted);
                }

                if (leftOut is not null || !_blobs.TryGetValue(descriptor.Digest, out var upload))
                {
                    throw new InvalidInputException($"{target}: layer {descriptor.Digest.Short} is left out of the source and {target.Registry} declined to mount it from {leftOut}");
                }

                await UploadAsync(target, upload, cancellationToken).ConfigureAwait(false);
                return (target.Repository, BlobOutcome.Uploaded);
            }
            finally
            {
                _transfers.Release();
            }
        }

        private async Task<BlobOutcome> PlaceAgainAsync(ImageReference target, Descriptor descriptor, string home, CancellationToken cancellationToken)
        {
            await _transfers.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (await registry.BlobExistsAsync(target, descriptor, cancellationToken).ConfigureAwait(false))
                {
                    return BlobOutcome.Existing;
                }

                if (await registry.MountBlobAsync(target, descriptor, home, cancellationToken).ConfigureAwait(false))
                {
                    return BlobOutcome.Mounted;
                }

                if (!_blobs.TryGetValue(descriptor.Digest, out var blob))
                {
                    throw new InvalidInputException($"{target}: layer {descriptor.Digest.Short} is left out of the source and {target.Registry} declined to mount it from {home}");
                }

                await UploadAsync(target, blob, cancellationToken).ConfigureAwait(false);
                return BlobOutcome.Uploaded;
            }
            finally
            {
                _transfers.Release();
            }
        }

        private async Task UploadAsync(ImageReference target, TransferBlob blob, CancellationToken cancellationToken)
        {
            if (blob.Content is { } content)
            {
                await registry.UploadBlobAsync(target, blob.Descriptor, _ => Task.FromResult<Stream>(new MemoryStream(content.ToArray(), writable: false)), cancellationToken).ConfigureAwait(false);
                return;
            }

            // A resumed upload reads the blob again from its start: only bytes past the furthest point read count as progress.
            var furthest = new StrongBox<long>();
            await registry.UploadBlobAsync(target, blob.Descriptor, async token => new ProgressStream(await context.OpenAsync(blob, token).ConfigureAwait(false), blob, context, furthest), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reports the bytes read through it as transferred (an upload streams from it), each byte once across reopenings.</summary>
    private sealed class ProgressStream(Stream inner, TransferBlob blob, TransferContext context, StrongBox<long> furthest) : Content.ForwardOnlyStream(inner)
    {
        private long _position;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Inner.Read(buffer);
            Report(n);
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await Inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            Report(n);
            return n;
        }

        private void Report(int n)
        {
            _position += n;
            if (_position > furthest.Value)
            {
                context.Transferred(blob, _position - furthest.Value);
                furthest.Value = _position;
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>An image was pushed to a registry.</summary>
/// <param name="Image">The image as planned.</param>
/// <param name="Pushed">What was pushed.</param>
public sealed record ImagePushedEvent(PlannedImage Image, PushedImage Pushed) : TransferEvent
{
    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, ("Position", Image.Position), ("Requested", Image.Requested), (nameof(Pushed), Pushed));
}
