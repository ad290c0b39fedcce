using System.Text;
using Ferry.Archives.Format;
using Ferry.Oci;

namespace Ferry.Core.Tests;

public sealed class DockerManifestFileTests
{
    private const string Config = "sha256:" + "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
    private const string Gzip = "sha256:" + "1111111111111111111111111111111111111111111111111111111111111111";
    private const string Plain = "sha256:" + "2222222222222222222222222222222222222222222222222222222222222222";
    private const string DiffId = "sha256:" + "3333333333333333333333333333333333333333333333333333333333333333";

    [Fact]
    public void Build_PutsLayersAtTheirDigestsPath_OrWhereTheyWereSent()
    {
        var manifest = ManifestDocument.Parse(Encoding.UTF8.GetBytes($$"""
            {"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
             "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"{{Config}}","size":2},
             "layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"{{Gzip}}","size":3},
                       {"mediaType":"application/vnd.docker.image.rootfs.diff.tar","digest":"{{Plain}}","size":4}]}
            """), "application/vnd.docker.distribution.manifest.v2+json", "test");

        var stored = DockerManifestFile.Read(DockerManifestFile.Build([(manifest, "app:1")]), "test").Single();
        Assert.Equal(["blobs/sha256/" + Gzip[7..], "blobs/sha256/" + Plain[7..]], stored.Layers);
        Assert.Equal("blobs/sha256/" + Config[7..], stored.Config);

        // A layer sent unpacked sits at its diff ID's path; the others stay where they are.
        var unpacked = DockerManifestFile.Read(DockerManifestFile.Build([(manifest, "app:1")], layer => layer.Digest.ToString() == Gzip ? "blobs/sha256/" + DiffId[7..] : layer.Digest.LayoutPath), "test").Single();
        Assert.Equal(["blobs/sha256/" + DiffId[7..], "blobs/sha256/" + Plain[7..]], unpacked.Layers);
        Assert.Equal(["app:1"], unpacked.RepoTags);
    }
}
