using Ferry.Archives.Format;
using Ferry.Transfer;

namespace Ferry.Archives;

/// <summary>
/// Turns a run's plan into Ferry's archive content: every planned blob once, <c>index.json</c> with one entry per
/// reference (both name annotations set to the full reference) and one per artifact carried with an image (signature, attestation, SBOM: unnamed, with Ferry's artifact annotations), <c>manifest.json</c> with one item per container image (artifacts have none) for one
/// platform and fully qualified <c>RepoTags</c>, and for a partial plan <c>ferry-partial.json</c>.
/// Output depends only on the input (same images, same order → same bytes).
/// </summary>
internal static class LayoutBuilder
{
    public static ImageLayout Build(TransferPlan plan, Signing.SigningKey? signKey = null)
    {
        var images = plan.Images.Select(p => p.Image).ToList();
        var artifacts = images.SelectMany(i => i.Artifacts.Select(a => new OciIndexEntry(a.Manifest.Descriptor, null) { Artifact = new ArtifactLink(i.Reference.Name, a.Subject, a.Tag) }))
            .DistinctBy(e => (e.Artifact!.Repository, e.Descriptor.Digest, e.Artifact.Tag));
        var index = OciIndexFile.Build(images.DistinctBy(i => i.Reference.ToString()).Select(i => new OciIndexEntry(i.Top.Descriptor, i.Reference.ToString())).Concat(artifacts));
        var manifest = DockerManifestFile.Build(images.Where(i => i.IsContainerImage).Select(i => (i.Primary.Manifest, i.Reference.TaggedName)));
        return new ImageLayout(plan.Blobs, index, manifest)
        {
            PartialJson = plan.Omitted.Count > 0 ? PartialRecord.Build(plan.Omitted) : (ReadOnlyMemory<byte>?)null,
            IndexSignature = signKey is null ? (ReadOnlyMemory<byte>?)null : Signing.BundleSignature.Create(index, signKey),
        };
    }
}
