using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Ferry.Copying;
using Ferry.Daemon;
using Ferry.IntegrationTests.Infrastructure;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.IntegrationTests;

/// <summary>
/// A source and a sink written outside Ferry (<see cref="MemoryImageSource"/>, <see cref="MemoryImageSink"/>), each
/// one class plus one <see cref="ImageTransport"/> registration, run through every path they apply to: the memory
/// source into the real registry, an archive and dockerd; the memory sink from the registry, an archive and dockerd.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class CustomTransportTests(RealComponentsFixture env)
{
    [Fact]
    public async Task TestOnlySource_IntoRegistryArchiveAndEngine()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        using var dir = new TempDirectory();
        var image = TestImages.Image([TestImages.BusyboxLayer(docker: false), TestImages.Layer(new Dictionary<string, byte[]> { ["mem.txt"] = "hello from memory"u8.ToArray() }, docker: false)], docker: false, label: "memory");
        var source = new MemoryImageSource();
        source.Name("custom/mem:1", image.Manifest.Content, image.Manifest.MediaType);
        source.Put(image.Config.Content);
        foreach (var layer in image.Layers)
        {
            source.Put(layer.Content);
        }

        ImageTransport[] registration = [new("memory:", OpenSource: (reference, _) => Task.FromResult(new TransportSource(source, [reference])))];

        var pushed = await Images.CopyAsync(new CopyRequest { Images = ["memory:custom/mem:1"], Destination = $"docker://{env.Host}/custom/mem:1", Transports = registration });
        Assert.Equal(image.Manifest.Digest, Assert.Single(pushed.Images).Digest.ToString());
        Assert.Equal(image.Manifest.Digest, await RegistryManifests.DigestAsync(env.Host, "custom/mem", "1"));

        var archive = dir.File("mem.tar");
        var saved = await Images.CopyAsync(new CopyRequest { Images = ["memory:custom/mem:1"], Destination = $"oci-archive:{archive}", Transports = registration });
        Assert.Equal(archive, saved.Output);
        var raw = (await ProcessRunner.RunAsync(skopeo, ["inspect", "--raw", $"oci-archive:{archive}"])).EnsureSuccess("skopeo inspect");
        Assert.Equal(image.Manifest.Digest, "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(raw.StandardOutput.TrimEnd('\n')))));

        var loaded = await Images.CopyAsync(new CopyRequest { Images = ["memory:custom/mem:1"], Destination = "docker-daemon:custom/mem:1", Transports = registration, Daemon = Engine() });
        Assert.NotEmpty(loaded.DaemonLoaded);
        Assert.Equal("hello from memory", await env.Docker.RunAsync("custom/mem:1", "cat", "/mem.txt"));
        // The archive and the Engine read both layers from the source each; the registry may already hold the base layer.
        Assert.True(source.BlobsOpened >= 4, $"{source.BlobsOpened} blobs opened");
    }

    [Fact]
    public async Task TestOnlySink_FromRegistryArchiveAndEngine()
    {
        using var dir = new TempDirectory();
        var sinks = new List<MemoryImageSink>();
        ImageTransport[] registration = [new("memory:", OpenSink: _ => { var sink = new MemoryImageSink(); sinks.Add(sink); return sink; })];

        await Images.CopyAsync(new CopyRequest { Images = [$"docker://{env.Host}/test/multi:1"], Destination = "memory:", Platforms = PlatformSelection.All, Transports = registration });
        var fromRegistry = Assert.Single(sinks);
        Assert.Equal(env.Digests["test/multi:1"], fromRegistry.Names[$"{env.Host}/test/multi:1"].ToString());
        AssertIntact(fromRegistry);

        var archive = dir.File("app.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        await Images.CopyAsync(new CopyRequest { Images = [archive], Destination = "memory:", Transports = registration });
        var appDigest = await RegistryManifests.DigestAsync(env.Host, "test/app", "1");
        Assert.Equal(appDigest, sinks[1].Names[$"{env.Host}/test/app:1"].ToString());
        AssertIntact(sinks[1]);

        (await env.Docker.DockerAsync("pull", $"{env.Host}/test/app:1")).EnsureSuccess("docker pull");
        await Images.CopyAsync(new CopyRequest { Images = [$"docker-daemon:{env.Host}/test/app:1"], Destination = "memory:", Transports = registration, Daemon = Engine() });
        var id = (await env.Docker.DockerAsync("image", "inspect", "--format", "{{.Id}}", $"{env.Host}/test/app:1")).EnsureSuccess("inspect").StandardOutput.Trim();
        var manifest = JsonNode.Parse(sinks[2].Blobs[sinks[2].Names[$"{env.Host}/test/app:1"]])!;
        Assert.Equal(id, (string?)manifest["config"]!["digest"]);
        AssertIntact(sinks[2]);
    }

    private static void AssertIntact(MemoryImageSink sink)
    {
        Assert.NotEmpty(sink.Blobs);
        foreach (var (digest, bytes) in sink.Blobs)
        {
            Assert.Equal(digest, Digest.Sha256Of(bytes));
        }
    }

    private DockerEndpoint Engine() => DockerEndpointResolver.Resolve(new DockerEndpointOptions(Host: env.Docker.Host));
}
