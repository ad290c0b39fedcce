using System.Text;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.Core.Tests;

/// <summary>skopeo's transport syntax as Ferry reads it, and the media-type rewriting of <c>--manifest-format</c>.</summary>
public sealed class TransportReferenceTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("docker://registry:5000/team/app:1", LocationKind.Registry, "docker", null, "registry:5000/team/app:1")]
    [InlineData("docker-daemon:app:dev", LocationKind.Daemon, "docker-daemon", null, "app:dev")]
    [InlineData("docker-archive:/tmp/a.tar", LocationKind.Archive, "docker-archive", "/tmp/a.tar", null)]
    [InlineData("docker-archive:a.tar:registry:5000/app:1", LocationKind.Archive, "docker-archive", "a.tar", "registry:5000/app:1")]
    [InlineData("oci-archive:b.tar:app:2", LocationKind.Archive, "oci-archive", "b.tar", "app:2")]
    [InlineData("oci:layout", LocationKind.Archive, "oci", "layout", null)]
    [InlineData("oci:layout:latest", LocationKind.Archive, "oci", "layout", "latest")]
    [InlineData("ferry-archive:bundle.tar.gz", LocationKind.Archive, "ferry-archive", "bundle.tar.gz", null)]
    [InlineData("nginx:1.27", LocationKind.Registry, "docker", null, "nginx:1.27")]
    public void ParseSource_ReadsEachTransport(string text, LocationKind kind, string transport, string? path, string? reference)
    {
        var location = ImageLocation.ParseSource(text);
        Assert.Equal(kind, location.Kind);
        Assert.Equal(transport, location.Transport);
        Assert.Equal(path, location.Path);
        Assert.Equal(reference, location.Reference);
    }

    [Fact]
    public void ParseSource_AnExistingPath_IsAnArchive()
    {
        var file = Path.GetTempFileName();
        try
        {
            var location = ImageLocation.ParseSource(file);
            Assert.Equal(LocationKind.Archive, location.Kind);
            Assert.Equal(file, location.Path);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("out.tar", "ferry-archive")]
    [InlineData("./dir/out.tar.zst", "ferry-archive")]
    [InlineData("/abs/bundle", "ferry-archive")]
    [InlineData("oci:layout", "oci")]
    [InlineData("docker-daemon:", "docker-daemon")]
    public void ParseDestination_AcceptsTransportsAndPathsThatLookLikeOne(string text, string transport) =>
        Assert.Equal(transport, ImageLocation.ParseDestination(text).Transport);

    [Theory]
    [InlineData("registry:5000/app:1", "say what the destination is")]
    [InlineData("docker://", "reference is missing")]
    [InlineData("docker-daemon:", "reference is missing")]
    [InlineData("oci:", "needs a path")]
    [InlineData("docker-archive:a.tar:", "nothing after the colon")]
    public void Malformed_IsOneClearLine(string text, string reason)
    {
        var error = Assert.Throws<InvalidInputException>(() => text == "registry:5000/app:1" ? ImageLocation.ParseDestination(text) : ImageLocation.ParseSource(text));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertManifest_ToOci_RewritesTypesOnly_AndBack()
    {
        var json = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.DockerManifest}}}","config":{"mediaType":"{{{MediaTypes.DockerConfig}}}","digest":"sha256:{{{Hex}}}","size":7},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","digest":"sha256:{{{Hex}}}","size":9,"urls":["https://x"]}]}""";
        var docker = ManifestDocument.Parse(Encoding.UTF8.GetBytes(json), MediaTypes.DockerManifest, "test");
        var oci = ManifestConverter.ConvertManifest(docker, ManifestFormat.Oci);
        Assert.Equal(MediaTypes.OciManifest, oci.MediaType);
        Assert.Equal(MediaTypes.OciConfig, oci.Config!.MediaType);
        Assert.Equal("application/vnd.oci.image.layer.v1.tar+gzip", Assert.Single(oci.Layers).MediaType);
        Assert.Equal(docker.Config!.Digest, oci.Config.Digest);
        Assert.Equal(docker.Layers[0].Digest, oci.Layers[0].Digest);
        Assert.NotEqual(docker.Digest, oci.Digest);
        Assert.Contains("\"urls\":[\"https://x\"]", Encoding.UTF8.GetString(oci.Content.Span), StringComparison.Ordinal);
        Assert.Same(oci, ManifestConverter.ConvertManifest(oci, ManifestFormat.Oci));

        var back = ManifestConverter.ConvertManifest(oci, ManifestFormat.Docker);
        Assert.Equal(MediaTypes.DockerManifest, back.MediaType);
        Assert.Equal("application/vnd.docker.image.rootfs.diff.tar.gzip", back.Layers[0].MediaType);
    }

    [Fact]
    public void ConvertManifest_ZstdToDocker_IsRefused()
    {
        var json = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","config":{"mediaType":"{{{MediaTypes.OciConfig}}}","digest":"sha256:{{{Hex}}}","size":7},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+zstd","digest":"sha256:{{{Hex}}}","size":9}]}""";
        var oci = ManifestDocument.Parse(Encoding.UTF8.GetBytes(json), MediaTypes.OciManifest, "test");
        var error = Assert.Throws<UnsupportedContentException>(() => ManifestConverter.ConvertManifest(oci, ManifestFormat.Docker));
        Assert.Contains("no Docker media type", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConvertIndex_PointsAtTheRewrittenChildren()
    {
        var child = ManifestDocument.Parse(Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.DockerManifest}}}","config":{"mediaType":"{{{MediaTypes.DockerConfig}}}","digest":"sha256:{{{Hex}}}","size":7},"layers":[]}"""), null, "child");
        var index = ManifestDocument.Parse(Encoding.UTF8.GetBytes($$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.DockerManifestList}}}","manifests":[{"mediaType":"{{{MediaTypes.DockerManifest}}}","digest":"{{{child.Digest}}}","size":{{{child.Content.Length}}},"platform":{"os":"linux","architecture":"amd64"}}]}"""), null, "index");
        var converted = ManifestConverter.ConvertManifest(child, ManifestFormat.Oci);
        var newIndex = ManifestConverter.ConvertIndex(index, ManifestFormat.Oci, new Dictionary<Digest, ManifestDocument> { [child.Digest] = converted });
        Assert.Equal(MediaTypes.OciIndex, newIndex.MediaType);
        var entry = Assert.Single(newIndex.Manifests);
        Assert.Equal(converted.Digest, entry.Digest);
        Assert.Equal(converted.Content.Length, entry.Size);
        Assert.Equal(MediaTypes.OciManifest, entry.MediaType);
        Assert.Equal("linux/amd64", entry.Platform!.ToString());
    }

    [Fact]
    public void PlatformSelection_Parse_IsTheOneParser()
    {
        Assert.True(PlatformSelection.Parse("all").IsAll);
        Assert.Equal(["linux/amd64", "linux/arm64/v8"], PlatformSelection.Parse("linux/amd64, arm64").Platforms.Select(p => p.ToString()));
        var preferring = PlatformSelection.Preferring(Platform.Parse("linux/amd64"));
        Assert.True(preferring.FallsBackToAny);
        Assert.False(PlatformSelection.Of([Platform.Parse("linux/amd64")]).FallsBackToAny);
    }
}
