using System.Text.Json.Nodes;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// One real registry and one real Docker Engine for the whole test collection, seeded with generated images:
/// Docker schema 2 and OCI images sharing a busybox base layer, an OCI index with three platforms, a Docker
/// manifest list, and an arm64-only image.
/// </summary>
public sealed class RealComponentsFixture : IAsyncLifetime
{
    private RegistryProcess? _registry;
    private DockerDaemon? _docker;
    private readonly TempDirectory _pki = new("ferry-pki");

    /// <summary>The CA, server and client certificates of the daemon's TLS listener.</summary>
    internal TestCertificates DaemonCertificates { get; private set; } = null!;

    internal RegistryProcess Registry => _registry!;

    internal DockerDaemon Docker => _docker!;

    public string Host => Registry.Host;

    /// <summary>Manifest or index digests of the seeded images, by repository:tag.</summary>
    public Dictionary<string, string> Digests { get; } = new(StringComparer.Ordinal);

    /// <summary>The digest of the shared busybox base layer.</summary>
    public string BaseLayerDigest { get; private set; } = string.Empty;

    internal Dictionary<string, TestImage> Images { get; } = new(StringComparer.Ordinal);

    public async Task InitializeAsync()
    {
        _registry = await RegistryProcess.StartAsync();
        DaemonCertificates = new TestCertificates(_pki.File("daemon"));
        _docker = await DockerDaemon.StartAsync(DaemonCertificates);
        using var http = new HttpClient();
        var host = _registry.Host;

        var baseDocker = TestImages.BusyboxLayer(docker: true);
        var baseOci = TestImages.BusyboxLayer(docker: false);
        BaseLayerDigest = baseDocker.Digest;

        var app = TestImages.Layer(new Dictionary<string, byte[]> { ["app.txt"] = "hello from app"u8.ToArray() }, docker: true);
        await Seed(http, host, "test/base", "1", TestImages.Image([baseDocker], docker: true, label: "base"));
        await Seed(http, host, "test/app", "1", TestImages.Image([baseDocker, app], docker: true, label: "app"));
        var ociLayer = TestImages.Layer(new Dictionary<string, byte[]> { ["oci.txt"] = "hello from oci"u8.ToArray() }, docker: false);
        await Seed(http, host, "test/oci", "1", TestImages.Image([baseOci, ociLayer], docker: false, label: "oci"));

        var amd64 = TestImages.Image([baseOci, TestImages.Layer(new Dictionary<string, byte[]> { ["arch.txt"] = "amd64"u8.ToArray() }, false)], docker: false, "amd64", label: "multi");
        var arm64 = TestImages.Image([TestImages.RandomLayer("arm64", 4096, false)], docker: false, "arm64", "v8", label: "multi");
        var armv7 = TestImages.Image([TestImages.RandomLayer("armv7", 4096, false)], docker: false, "arm", "v7", label: "multi");
        foreach (var image in new[] { amd64, arm64, armv7 })
        {
            await TestImages.PushImageAsync(http, host, "test/multi", image, null);
        }

        var index = TestImages.Index([amd64, arm64, armv7], docker: false);
        await TestImages.PushManifestAsync(http, host, "test/multi", index, "1");
        Digests["test/multi:1"] = index.Digest;
        Images["test/multi:1/amd64"] = amd64;
        Images["test/multi:1/arm64"] = arm64;
        Images["test/multi:1/armv7"] = armv7;

        var dAmd64 = TestImages.Image([baseDocker], docker: true, "amd64", label: "dlist");
        var dArm64 = TestImages.Image([TestImages.RandomLayer("darm64", 2048, true)], docker: true, "arm64", label: "dlist");
        await TestImages.PushImageAsync(http, host, "test/dlist", dAmd64, null);
        await TestImages.PushImageAsync(http, host, "test/dlist", dArm64, null);
        var list = TestImages.Index([dAmd64, dArm64], docker: true);
        await TestImages.PushManifestAsync(http, host, "test/dlist", list, "1");
        Digests["test/dlist:1"] = list.Digest;

        await Seed(http, host, "test/armonly", "1", TestImages.Image([TestImages.RandomLayer("armonly", 1024, false)], docker: false, "arm64", label: "armonly"));
    }

    private async Task Seed(HttpClient http, string host, string repository, string tag, TestImage image)
    {
        await TestImages.PushImageAsync(http, host, repository, image, tag);
        Digests[$"{repository}:{tag}"] = image.Manifest.Digest;
        Images[$"{repository}:{tag}"] = image;
    }

    public async Task DisposeAsync()
    {
        if (_docker is not null)
        {
            await _docker.DisposeAsync();
        }

        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        DaemonCertificates?.Dispose();
        _pki.Dispose();
    }

    /// <summary>Reads a JSON file out of a tar archive.</summary>
    public static JsonNode ReadJsonEntry(string archive, string name)
    {
        using var stream = File.OpenRead(archive);
        using var reader = new System.Formats.Tar.TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name == name)
            {
                return JsonNode.Parse(entry.DataStream!)!;
            }
        }

        throw new InvalidOperationException($"{name} not in {archive}");
    }

    /// <summary>Lists the entry names of a tar archive.</summary>
    public static List<string> EntryNames(string archive)
    {
        using var stream = File.OpenRead(archive);
        using var reader = new System.Formats.Tar.TarReader(stream);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }

        return names;
    }
}

[CollectionDefinition(Name)]
public sealed class RealComponentsCollection : ICollectionFixture<RealComponentsFixture>
{
    public const string Name = "real registry and docker";
}
