using Ferry.Archives.Format;
using Ferry.Transfer;

namespace Ferry.Archives;

/// <summary>
/// Turns a run's plan into Ferry's archive content: every planned blob once, <c>index.json</c> with one entry per
/// reference (both name annotations set to the full reference), <c>manifest.json</c> with one item per image for one
/// platform and fully qualified <c>RepoTags</c>, and for a partial plan <c>ferry-partial.json</c>.
/// Output depends only on the input (same images, same order → same bytes).
/// </summary>
internal static class LayoutBuilder
{
    public static ImageLayout Build(TransferPlan plan)
    {
        var images = plan.Images.Select(p => p.Image).ToList();
        var index = OciIndexFile.Build(images.DistinctBy(i => i.Reference.ToString()).Select(i => new OciIndexEntry(i.Top.Descriptor, i.Reference.ToString())));
        var manifest = DockerManifestFile.Build(images.Select(i => (i.Primary.Manifest, i.Reference.TaggedName)));
        return new ImageLayout(plan.Blobs, index, manifest) { PartialJson = plan.Omitted.Count > 0 ? PartialRecord.Build(plan.Omitted) : (ReadOnlyMemory<byte>?)null };
    }
}
