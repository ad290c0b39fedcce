using System.Text;
using Ferry.Oci;

namespace Ferry.Core.Tests;

public sealed class ArtifactDescriptionTests
{
    private const string Digest = "sha256:" + "1111111111111111111111111111111111111111111111111111111111111111";

    [Fact]
    public void HelmChart_IsNamedWithItsVersion_OtherArtifacts_ByTheirType()
    {
        var helm = Manifest("application/vnd.cncf.helm.config.v1+json", artifactType: null);
        Assert.Equal("helm chart mychart 0.1.0", ArtifactDescription.Describe(helm, """{"name":"mychart","version":"0.1.0"}"""u8));
        Assert.Equal("application/vnd.cncf.helm.config.v1+json", ArtifactDescription.Describe(helm, "not json"u8)); // a config Helm did not write

        var sbom = Manifest("application/vnd.oci.empty.v1+json", artifactType: "application/spdx+json");
        Assert.Equal("application/spdx+json", ArtifactDescription.Describe(sbom, "{}"u8));
        Assert.Equal("application/spdx+json", ArtifactDescription.TypeOf(sbom));
    }

    private static ManifestDocument Manifest(string configType, string? artifactType) =>
        ManifestDocument.Parse(Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"{{(artifactType is null ? "" : $",\"artifactType\":\"{artifactType}\"")}},
             "config":{"mediaType":"{{configType}}","digest":"{{Digest}}","size":2},"layers":[]}
            """), "application/vnd.oci.image.manifest.v1+json", "test");
}
