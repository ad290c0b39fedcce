using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Oci;
using Ferry.References;

namespace Ferry.Transfer;

/// <summary>One image of a run, as resolved, with its place in the request.</summary>
/// <param name="Image">The resolved image.</param>
/// <param name="Position">Its 1-based position in the request.</param>
/// <param name="Requested">How it was requested.</param>
public sealed record PlannedImage(ResolvedImage Image, int Position, string Requested);

/// <summary>
/// The whole run, decided before a byte moves: every image, and every distinct blob once however many images
/// (and platforms) share it — manifests and configs with their verified bytes, layers with the image they are read
/// from — minus the layers a partial transfer leaves out. Sinks plan from it (an archive fixes every offset); the
/// engine reports progress against it.
/// </summary>
public sealed class TransferPlan
{
    private readonly Dictionary<Digest, List<int>> _positions;

    private TransferPlan(IReadOnlyList<PlannedImage> images, IReadOnlyList<TransferBlob> blobs, IReadOnlyList<OmittedBlob> omitted, int requested, Dictionary<Digest, List<int>> positions, long uniqueBytes)
    {
        Images = images;
        Blobs = blobs;
        Omitted = omitted;
        RequestedCount = requested;
        _positions = positions;
        UniqueBytes = uniqueBytes;
    }

    /// <summary>An empty plan (nothing resolved).</summary>
    public static TransferPlan Empty { get; } = new([], [], [], 0, [], 0);

    /// <summary>The images, in request order.</summary>
    public IReadOnlyList<PlannedImage> Images { get; }

    /// <summary>Every distinct blob to transfer, sorted by path; manifests and configs carry their bytes.</summary>
    public IReadOnlyList<TransferBlob> Blobs { get; }

    /// <summary>The layers left out of a partial transfer.</summary>
    public IReadOnlyList<OmittedBlob> Omitted { get; }

    /// <summary>How many images were requested (resolved or not).</summary>
    public int RequestedCount { get; }

    /// <summary>The bytes of every distinct blob of the images, left-out layers included, each counted once.</summary>
    public long UniqueBytes { get; }

    /// <summary>The blobs read from the source as streams (not held in memory).</summary>
    public IEnumerable<TransferBlob> StreamedBlobs => Blobs.Where(b => b.Content is null);

    /// <summary>The bytes of <see cref="StreamedBlobs"/>.</summary>
    public long StreamedBytes => StreamedBlobs.Sum(b => b.Descriptor.Size);

    /// <summary>The 1-based request positions of the images that hold a blob.</summary>
    /// <param name="digest">The blob.</param>
    /// <returns>The positions (empty for a blob no image names).</returns>
    public IReadOnlyList<int> PositionsOf(Digest digest) => _positions.TryGetValue(digest, out var list) ? list : [];

    /// <summary>Plans a run.</summary>
    /// <param name="images">The resolved images.</param>
    /// <param name="omitted">The layers left out.</param>
    /// <param name="requested">How many images were requested.</param>
    /// <returns>The plan.</returns>
    public static TransferPlan Create(IReadOnlyList<PlannedImage> images, IReadOnlyList<OmittedBlob> omitted, int requested)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(omitted);
        var left = omitted.Select(o => o.Digest).ToHashSet();
        var blobs = new Dictionary<Digest, TransferBlob>();
        var positions = new Dictionary<Digest, List<int>>();
        long unique = 0;
        void Add(Descriptor descriptor, ReadOnlyMemory<byte>? content, PlannedImage planned)
        {
            if (!positions.TryGetValue(descriptor.Digest, out var list))
            {
                positions[descriptor.Digest] = list = [];
                unique += descriptor.Size;
            }

            if (!list.Contains(planned.Position))
            {
                list.Add(planned.Position);
            }

            if (!left.Contains(descriptor.Digest) && !blobs.ContainsKey(descriptor.Digest))
            {
                blobs[descriptor.Digest] = new TransferBlob(descriptor, content, planned.Image.Source);
            }
        }

        foreach (var planned in images)
        {
            var image = planned.Image;
            Add(image.Top.Descriptor, image.Top.Content, planned);
            foreach (var platform in image.Platforms)
            {
                Add(platform.Manifest.Descriptor, platform.Manifest.Content, planned);
                Add(platform.Manifest.Config!, platform.Config, planned);
                foreach (var layer in platform.Manifest.Layers)
                {
                    Add(layer, null, planned);
                }
            }

            foreach (var artifact in image.Artifacts)
            {
                Add(artifact.Manifest.Descriptor, artifact.Manifest.Content, planned);
                foreach (var blob in artifact.Blobs)
                {
                    Add(blob, null, planned);
                }
            }
        }

        var sorted = blobs.Values.OrderBy(b => b.Path, StringComparer.Ordinal).ToList();
        return new TransferPlan(images, sorted, omitted, requested, positions, unique);
    }
}
