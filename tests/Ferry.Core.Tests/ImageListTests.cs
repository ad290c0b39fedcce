using Ferry.Saving;

namespace Ferry.Core.Tests;

public sealed class ImageListTests
{
    [Fact]
    public void Parse_CommentsBlankCrLfBomAndWhitespace_KeepsOnlyReferencesWithLineNumbers()
    {
        var text = "\uFEFF# header\r\n\r\n// also a comment\r\n  nginx:1.27  \r\n\t\r\nregistry.example.com:5000/team/app@sha256:" + new string('a', 64) + "\r\n";
        var entries = ImageList.Parse(new StringReader(text));
        Assert.Equal([4, 6], entries.Select(e => e.LineNumber));
        Assert.Equal("nginx:1.27", entries[0].Line);
        Assert.Equal("docker.io/library/nginx:1.27", entries[0].Reference!.ToString());
        Assert.All(entries, e => Assert.Null(e.Error));
    }

    [Fact]
    public void Parse_MalformedLine_IsKeptWithItsLineNumberAndTheRestStillParse()
    {
        var entries = ImageList.Parse(new StringReader("alpine:3\nNot Valid!\nbusybox\n"));
        Assert.Equal(3, entries.Count);
        Assert.Null(entries[1].Reference);
        Assert.StartsWith("line 2: invalid reference", entries[1].Error, StringComparison.Ordinal);
        Assert.NotNull(entries[2].Reference);
    }

    [Fact]
    public void Parse_BomFile_IsDetected()
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, "nginx\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
            Assert.Equal("docker.io/library/nginx:latest", Assert.Single(ImageList.ParseFile(path)).Reference!.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void WithRegistry_SourceOverride_ReplacesExplicitAndImpliedRegistries()
    {
        Assert.Equal("mirror:5000/library/nginx:1", References.ImageReference.Parse("nginx:1").WithRegistry("mirror:5000").ToString());
        Assert.Equal("mirror:5000/team/app:2", References.ImageReference.Parse("quay.io/team/app:2").WithRegistry("mirror:5000").ToString());
    }
}
