using Ferry.References;
using Ferry.Transfer;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A test-only sink: every blob of the plan read through the engine's context (verified while it streams) into
/// memory, and each image's name and top digest. What a new sink costs: this one class, plus one registration.
/// </summary>
internal sealed class MemoryImageSink : IImageSink
{
    public Dictionary<Digest, byte[]> Blobs { get; } = [];

    public Dictionary<string, Digest> Names { get; } = new(StringComparer.Ordinal);

    public bool AcceptsPartial => false;

    public async Task<SinkReport> WriteAsync(TransferPlan plan, TransferContext context, CancellationToken cancellationToken)
    {
        foreach (var blob in plan.Blobs)
        {
            if (blob.Content is { } content)
            {
                Blobs[blob.Descriptor.Digest] = content.ToArray();
                continue;
            }

            await using var stream = await context.OpenAsync(blob, cancellationToken);
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, cancellationToken);
            context.Transferred(blob, copy.Length);
            context.BlobDone(blob);
            Blobs[blob.Descriptor.Digest] = copy.ToArray();
        }

        foreach (var image in plan.Images)
        {
            Names[image.Image.Reference.ToString()] = image.Image.Top.Digest;
        }

        return new MemoryReport(plan.Images.Count);
    }

    public sealed record MemoryReport(int Images) : SinkReport;
}
