using System.Text;
using Ferry.Errors;
using Ferry.Oci;

namespace Ferry.Core.Tests;

public sealed class ManifestDocumentTests
{
    private const string Hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void Parse_OciManifest_KeepsTheExactBytesAndTheirDigest()
    {
        var json = $$$"""{"schemaVersion":2,"mediaType":"{{{MediaTypes.OciManifest}}}","config":{"mediaType":"{{{MediaTypes.OciConfig}}}","digest":"sha256:{{{Hex}}}","size":7},"layers":[{"mediaType":"x","digest":"sha256:{{{Hex}}}","size":9}]}""";
        var bytes = Encoding.UTF8.GetBytes(json);
        var document = ManifestDocument.Parse(bytes, null, "test");
        Assert.Equal(bytes, document.Content.ToArray());
        Assert.Equal(References.Digest.Sha256Of(bytes), document.Digest);
        Assert.Equal(9, Assert.Single(document.Layers).Size);
        Assert.False(document.IsIndex);
    }

    [Fact]
    public void Parse_IndexWithPlatforms_ReadsEntries()
    {
        var json = $$$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"sha256:{{{Hex}}}","size":5,"platform":{"os":"linux","architecture":"arm64"}}]}""";
        var document = ManifestDocument.Parse(Encoding.UTF8.GetBytes(json), MediaTypes.OciIndex, "test");
        Assert.True(document.IsIndex);
        Assert.Equal("linux/arm64/v8", Assert.Single(document.Manifests).Platform!.ToString());
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"name":"x","fsLayers":[]}""", typeof(UnsupportedContentException), "schema 1")]
    [InlineData("""{"schemaVersion":2,"schemaVersion":2,"manifests":[]}""", typeof(InvalidInputException), "not valid JSON")]
    [InlineData("""{"schemaVersion":2,"manifests":[],"layers":[]}""", typeof(InvalidInputException), "ambiguous")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:../../x","size":1},"layers":[]}""", typeof(InvalidInputException), "invalid digest")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","size":-1},"layers":[]}""", typeof(InvalidInputException), "valid size")]
    [InlineData("[1,2]", typeof(InvalidInputException), "not a JSON object")]
    public void Parse_BadDocument_IsRejected(string json, Type exceptionType, string reason)
    {
        var ex = Assert.Throws(exceptionType, () => ManifestDocument.Parse(Encoding.UTF8.GetBytes(json), null, "test"));
        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }
}
