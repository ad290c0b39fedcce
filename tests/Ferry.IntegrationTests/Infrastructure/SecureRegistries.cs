using System.Net.Http.Headers;
using System.Text;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// The real registry configured the ways issue #4 names, all on 127.0.0.1 and all serving one storage seeded
/// through a plain registry: TLS (private CA generated here) + htpasswd; TLS requiring client certificates;
/// plain HTTP + htpasswd; token auth against <see cref="TokenServer"/>.
/// </summary>
public sealed class SecureRegistries : IAsyncLifetime
{
    public const string User = "ferry";
    public const string Password = "tls-Pa55-word";
    public const string Repository = "private/app";
    public const string PublicRepository = "public/app";
    private readonly TempDirectory _dir = new("ferry-secure");
    private readonly List<IAsyncDisposable> _owned = [];

    internal TestCertificates Certificates { get; private set; } = null!;

    internal RegistryProcess Seed { get; private set; } = null!;

    /// <summary>TLS with the test CA, htpasswd auth.</summary>
    internal RegistryProcess Tls { get; private set; } = null!;

    /// <summary>TLS with the test CA, client certificate required, no other auth.</summary>
    internal RegistryProcess MutualTls { get; private set; } = null!;

    /// <summary>Plain HTTP, htpasswd auth.</summary>
    internal RegistryProcess Basic { get; private set; } = null!;

    /// <summary>Plain HTTP, token auth.</summary>
    internal RegistryProcess Token { get; private set; } = null!;

    internal TokenServer Tokens { get; private set; } = null!;

    /// <summary>The seeded image's manifest digest.</summary>
    public string Digest { get; private set; } = string.Empty;

    /// <summary>A 3 MiB layer: big enough for cuts and resumes.</summary>
    public long LayerSize { get; } = 3 * 1024 * 1024;

    internal string Scratch(string name) => Directory.CreateDirectory(_dir.File(name + "-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    /// <summary>An environment with no credentials from the machine (fresh DOCKER_CONFIG, XDG dirs).</summary>
    internal Dictionary<string, string> CleanEnvironment(string? dockerConfigJson = null)
    {
        var home = Scratch("home");
        var docker = Directory.CreateDirectory(Path.Combine(home, ".docker")).FullName;
        if (dockerConfigJson is not null)
        {
            File.WriteAllText(Path.Combine(docker, "config.json"), dockerConfigJson);
        }

        return new Dictionary<string, string>
        {
            ["HOME"] = home,
            ["DOCKER_CONFIG"] = docker,
            ["XDG_RUNTIME_DIR"] = Directory.CreateDirectory(Path.Combine(home, "run")).FullName,
            ["XDG_CONFIG_HOME"] = Directory.CreateDirectory(Path.Combine(home, ".config")).FullName,
            ["REGISTRY_AUTH_FILE"] = string.Empty,
            ["HTTPS_PROXY"] = string.Empty,
            ["HTTP_PROXY"] = string.Empty,
            ["NO_PROXY"] = string.Empty,
        };
    }

    public static string BasicConfigJson(string host, string user, string password) =>
        $"{{\"auths\":{{\"{host}\":{{\"auth\":\"{Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"))}\"}}}}}}";

    public async Task InitializeAsync()
    {
        Certificates = new TestCertificates(_dir.File("pki"));
        var htpasswd = Components.Require("htpasswd", "apache2-utils");
        (await ProcessRunner.RunAsync(htpasswd, ["-Bbc", _dir.File("htpasswd"), User, Password])).EnsureSuccess("htpasswd");

        Seed = Own(await RegistryProcess.StartAsync(new RegistryConfig()));
        using (var http = new HttpClient())
        {
            var image = TestImages.Image([TestImages.RandomLayer("secure", (int)LayerSize, docker: true)], docker: true, label: "secure");
            await TestImages.PushImageAsync(http, Seed.Host, Repository, image, "1");
            await TestImages.PushImageAsync(http, Seed.Host, PublicRepository, image, "1");
            Digest = image.Manifest.Digest;
        }

        var shared = new RegistryConfig { DataDirectory = Seed.DataDirectory };
        Tls = Own(await RegistryProcess.StartAsync(shared with { TlsCertificate = Certificates.ServerCertificate, TlsKey = Certificates.ServerKey, Htpasswd = _dir.File("htpasswd") }));
        MutualTls = Own(await RegistryProcess.StartAsync(shared with { TlsCertificate = Certificates.ServerCertificate, TlsKey = Certificates.ServerKey, ClientCas = Certificates.CaFile }));
        Basic = Own(await RegistryProcess.StartAsync(shared with { Htpasswd = _dir.File("htpasswd") }));
        Tokens = await TokenServer.StartAsync(_dir.Path);
        _owned.Add(Tokens);
        Token = Own(await RegistryProcess.StartAsync(shared with { Token = new TokenAuthConfig(Tokens.Realm(), TokenServer.Service, TokenServer.Issuer, Tokens.RootCertBundle) }));
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }

        Certificates?.Dispose();
        _dir.Dispose();
    }

    internal RegistryProcess Own(RegistryProcess registry)
    {
        _owned.Add(registry);
        return registry;
    }

    internal static AuthenticationHeaderValue BasicHeader(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));
}
