using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ferry.Bundles;

/// <summary>
/// A declarative bundle file (<c>ferry save -f bundle.yaml</c>, <c>ferry copy -f bundle.yaml</c>). It reads skopeo's
/// sync YAML as it is — registries at the top, each with <c>images</c>, <c>images-by-tag-regex</c>,
/// <c>images-by-semver</c>, <c>credentials</c>, <c>tls-verify</c> and <c>cert-dir</c> — and adds Ferry's own keys:
/// <c>platforms</c>, <c>files</c> and <c>signatures</c> at the top, and per repository a mapping with <c>tags</c>,
/// <c>regex</c>, <c>semver</c>, <c>exclude</c>, <c>newest</c> and <c>as</c> (its name at the destination). Unknown keys
/// are errors naming their line.
/// </summary>
public sealed record BundleFile
{
    private const string Platforms = "platforms";
    private const string Files = "files";
    private const string Signatures = "signatures";

    /// <summary>Where the file was read from, for messages.</summary>
    public required string Path { get; init; }

    /// <summary>The registries, in file order.</summary>
    public IReadOnlyList<BundleRegistry> Registries { get; init; } = [];

    /// <summary>The platforms the file asks for (<c>platforms:</c>), or <see langword="null"/>.</summary>
    public PlatformSelection? PlatformSelection { get; init; }

    /// <summary>Plain files to carry as OCI artifacts (<c>files:</c>).</summary>
    public IReadOnlyList<BundleFileItem> FileItems { get; init; } = [];

    /// <summary><c>signatures: carry</c> (<see langword="true"/>) or <c>drop</c> (<see langword="false"/>); <see langword="null"/> when not said.</summary>
    public bool? CarrySignatures { get; init; }

    /// <summary>Every repository of every registry, in file order.</summary>
    public IEnumerable<BundleRepository> Repositories => Registries.SelectMany(r => r.Repositories);

    /// <summary>Whether a path names a bundle file rather than a text image list: it ends in <c>.yaml</c> or <c>.yml</c>.</summary>
    /// <param name="path">The path given to <c>-f</c>.</param>
    /// <returns><see langword="true"/> for a bundle file.</returns>
    public static bool IsBundlePath(string path) =>
        path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a bundle file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The bundle.</returns>
    /// <exception cref="InvalidInputException">The file cannot be read, is not YAML, or says something Ferry does not know (with its line).</exception>
    public static BundleFile Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            using var reader = new StreamReader(path);
            return Parse(reader, path);
        }
        catch (IOException ex)
        {
            throw new InvalidInputException($"bundle file {path}: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new InvalidInputException($"bundle file {path}: {ex.Message}");
        }
    }

    /// <summary>Parses a bundle file's text.</summary>
    /// <param name="reader">The text.</param>
    /// <param name="path">Its name, for messages.</param>
    /// <returns>The bundle.</returns>
    /// <exception cref="InvalidInputException">Not YAML, or a key or value Ferry does not know (with its line).</exception>
    public static BundleFile Parse(TextReader reader, string path)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var stream = new YamlStream();
        try
        {
            stream.Load(reader);
        }
        catch (YamlException ex)
        {
            throw new InvalidInputException($"{path}:{ex.Start.Line}: not valid YAML: {FirstLine(ex.Message)}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            throw new InvalidInputException($"{path}: the bundle file is empty");
        }

        var root = stream.Documents[0].RootNode as YamlMappingNode ?? throw Error(path, stream.Documents[0].RootNode, "a bundle file is a mapping of registries (skopeo sync's format) and Ferry's keys (platforms, files, signatures)");
        var registries = new List<BundleRegistry>();
        var bundle = new BundleFile { Path = path };
        foreach (var (keyNode, value) in root.Children)
        {
            var key = Scalar(path, keyNode);
            switch (key)
            {
                case Platforms:
                    bundle = bundle with { PlatformSelection = ParsePlatforms(path, value) };
                    break;
                case Files:
                    bundle = bundle with { FileItems = ParseFiles(path, value) };
                    break;
                case Signatures:
                    bundle = bundle with
                    {
                        CarrySignatures = Scalar(path, value) switch
                        {
                            "carry" => true,
                            "drop" => false,
                            var other => throw Error(path, value, $"signatures is carry or drop, not '{other}'"),
                        },
                    };
                    break;
                default:
                    if (!ImageReference.IsRegistryHost(key))
                    {
                        throw Error(path, keyNode, $"unknown key '{key}': the top level holds registries (a host with a dot or a port, or localhost) and platforms, files, signatures");
                    }

                    registries.Add(ParseRegistry(path, key, value));
                    break;
            }
        }

        return bundle with { Registries = registries };
    }

    private static BundleRegistry ParseRegistry(string path, string name, YamlNode node)
    {
        var map = node as YamlMappingNode ?? throw Error(path, node, $"registry {name}: expected a mapping (images, images-by-tag-regex, images-by-semver, credentials, tls-verify, cert-dir)");
        var repositories = new List<BundleRepository>();
        var registry = new BundleRegistry(name);
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Scalar(path, keyNode);
            switch (key)
            {
                case "images":
                    foreach (var (repoNode, tags) in Mapping(path, value, "images").Children)
                    {
                        repositories.Add(ParseRepository(path, name, Repository(path, repoNode), tags));
                    }

                    break;
                case "images-by-tag-regex":
                    foreach (var (repoNode, regex) in Mapping(path, value, key).Children)
                    {
                        repositories.Add(Selected(path, name, repoNode, new TagSelection { Regex = Scalar(path, regex) }));
                    }

                    break;
                case "images-by-semver":
                    foreach (var (repoNode, range) in Mapping(path, value, key).Children)
                    {
                        repositories.Add(Selected(path, name, repoNode, new TagSelection { Semver = SemverRange(Scalar(path, range)) }));
                    }

                    break;
                case "credentials":
                    registry = registry with { Credential = ParseCredential(path, name, value) };
                    break;
                case "tls-verify":
                    registry = registry with { TlsVerify = Boolean(path, value, key) };
                    break;
                case "cert-dir":
                    registry = registry with { CertDirectory = Scalar(path, value) };
                    break;
                default:
                    throw Error(path, keyNode, $"registry {name}: unknown key '{key}' (images, images-by-tag-regex, images-by-semver, credentials, tls-verify, cert-dir)");
            }
        }

        return registry with { Repositories = repositories };
    }

    /// <summary><c>repo: []</c> (every tag), <c>repo: [t1, sha256:…]</c>, or Ferry's mapping (tags, regex, semver, exclude, newest, as).</summary>
    private static BundleRepository ParseRepository(string path, string registry, string repository, YamlNode node)
    {
        var line = Line(node);
        if (node is YamlSequenceNode sequence)
        {
            var tags = sequence.Children.Select(t => Tag(path, t)).ToList();
            return new BundleRepository(registry, repository, line) { Tags = tags, Selection = tags.Count == 0 ? new TagSelection { AllTags = true } : null };
        }

        if (node is YamlScalarNode { Value: null or "" or "~" })
        {
            return new BundleRepository(registry, repository, line) { Selection = new TagSelection { AllTags = true } };
        }

        var map = node as YamlMappingNode ?? throw Error(path, node, $"{registry}/{repository}: expected a list of tags ([] for every tag) or a mapping (tags, regex, semver, exclude, newest, as)");
        var entry = new BundleRepository(registry, repository, line);
        var selection = new TagSelection();
        foreach (var (keyNode, value) in map.Children)
        {
            var key = Scalar(path, keyNode);
            switch (key)
            {
                case "tags":
                    entry = entry with { Tags = (value as YamlSequenceNode ?? throw Error(path, value, "tags is a list")).Children.Select(t => Tag(path, t)).ToList() };
                    break;
                case "regex":
                    selection = selection with { Regex = Scalar(path, value) };
                    break;
                case "semver":
                    selection = selection with { Semver = SemverRange(Scalar(path, value)) };
                    break;
                case "exclude":
                    selection = selection with { Exclude = Scalar(path, value) };
                    break;
                case "newest":
                    selection = selection with { Newest = int.TryParse(Scalar(path, value), out var newest) && newest > 0 ? newest : throw Error(path, value, "newest is a whole number above 0") };
                    break;
                case "as":
                    var name = Scalar(path, value);
                    entry = entry with { As = ImageReference.TryParse(name, out _, out var why) ? name : throw Error(path, value, $"as: {why}") };
                    break;
                default:
                    throw Error(path, keyNode, $"{registry}/{repository}: unknown key '{key}' (tags, regex, semver, exclude, newest, as)");
            }
        }

        var active = selection.IsActive || entry.Tags.Count == 0 ? (selection.IsActive ? selection : selection with { AllTags = true }) : null;
        return Checked(path, map, entry with { Selection = active });
    }

    private static BundleRepository Selected(string path, string registry, YamlNode repoNode, TagSelection selection) =>
        Checked(path, repoNode, new BundleRepository(registry, Repository(path, repoNode), Line(repoNode)) { Selection = selection });

    private static BundleRepository Checked(string path, YamlNode node, BundleRepository repository)
    {
        try
        {
            repository.Selection?.Validate();
        }
        catch (InvalidInputException ex)
        {
            throw Error(path, node, $"{repository.Registry}/{repository.Repository}: {ex.Message}");
        }

        return repository;
    }

    private static RegistryCredential ParseCredential(string path, string registry, YamlNode node)
    {
        string? username = null, password = null;
        foreach (var (keyNode, value) in Mapping(path, node, "credentials").Children)
        {
            switch (Scalar(path, keyNode))
            {
                case "username":
                    username = Scalar(path, value);
                    break;
                case "password":
                    password = Scalar(path, value);
                    break;
                case var other:
                    throw Error(path, keyNode, $"registry {registry}: credentials: unknown key '{other}' (username, password)");
            }
        }

        return username is { Length: > 0 } && password is not null
            ? new RegistryCredential(username, password) { Source = path }
            : throw Error(path, node, $"registry {registry}: credentials need a username and a password");
    }

    private static PlatformSelection ParsePlatforms(string path, YamlNode node)
    {
        var values = node is YamlSequenceNode list ? list.Children.Select(c => Scalar(path, c)).ToList() : [Scalar(path, node)];
        try
        {
            return values is ["all"] ? PlatformSelection.All : PlatformSelection.Of(values.Select(Platform.Parse));
        }
        catch (InvalidInputException ex)
        {
            throw Error(path, node, ex.Message);
        }
    }

    private static List<BundleFileItem> ParseFiles(string path, YamlNode node)
    {
        var items = new List<BundleFileItem>();
        foreach (var item in (node as YamlSequenceNode ?? throw Error(path, node, "files is a list of mappings (path, name, type)")).Children)
        {
            string? file = null, name = null, type = null;
            foreach (var (keyNode, value) in Mapping(path, item, "a file").Children)
            {
                switch (Scalar(path, keyNode))
                {
                    case "path":
                        file = Scalar(path, value);
                        break;
                    case "name":
                        name = Scalar(path, value);
                        break;
                    case "type":
                        type = Scalar(path, value);
                        break;
                    case var other:
                        throw Error(path, keyNode, $"files: unknown key '{other}' (path, name, type)");
                }
            }

            items.Add(new BundleFileItem(file ?? throw Error(path, item, "a file needs its path"), name, type, Line(item)));
        }

        return items;
    }

    /// <summary>skopeo's semver ranges are Masterminds constraints (<c>&gt;= 1.2, &lt; 2</c>); a comma is the npm range's space.</summary>
    private static string SemverRange(string range) => range.Replace(",", " ", StringComparison.Ordinal);

    private static string Repository(string path, YamlNode node)
    {
        var repository = Scalar(path, node);
        return ImageReference.TryParse("example.invalid/" + repository, out var parsed, out _) && parsed!.Tag == "latest" && parsed.Digest is null && !repository.Contains(':', StringComparison.Ordinal)
            ? repository
            : throw Error(path, node, $"'{repository}' is not a repository name (lower case, no tag: tags go in its list)");
    }

    private static string Tag(string path, YamlNode node)
    {
        var tag = Scalar(path, node);
        return Digest.TryParse(tag, out _) || ImageReference.IsTag(tag)
            ? tag
            : throw Error(path, node, $"'{tag}' is neither a tag nor a digest");
    }

    private static bool Boolean(string path, YamlNode node, string key) => Scalar(path, node).ToLowerInvariant() switch
    {
        "true" or "yes" or "on" => true,
        "false" or "no" or "off" => false,
        var other => throw Error(path, node, $"{key} is true or false, not '{other}'"),
    };

    private static YamlMappingNode Mapping(string path, YamlNode node, string what) =>
        node as YamlMappingNode ?? throw Error(path, node, $"{what}: expected a mapping");

    private static string Scalar(string path, YamlNode node) =>
        node is YamlScalarNode { Value: { } value } ? value : throw Error(path, node, "expected a single value");

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private static InvalidInputException Error(string path, YamlNode node, string message) => new($"{path}:{Line(node)}: {message}");

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}

/// <summary>A registry of a bundle file, with how to reach it.</summary>
/// <param name="Name">Its <c>host[:port]</c>.</param>
public sealed record BundleRegistry(string Name)
{
    /// <summary>Its repositories, in file order.</summary>
    public IReadOnlyList<BundleRepository> Repositories { get; init; } = [];

    /// <summary>The user and password for it (<c>credentials:</c>), or <see langword="null"/> (the usual credential files apply).</summary>
    public RegistryCredential? Credential { get; init; }

    /// <summary><c>tls-verify</c>: <see langword="false"/> lets it be plain HTTP or unverified HTTPS; <see langword="null"/> when not said.</summary>
    public bool? TlsVerify { get; init; }

    /// <summary><c>cert-dir</c>: its CAs and client certificates, or <see langword="null"/>.</summary>
    public string? CertDirectory { get; init; }
}

/// <summary>A repository of a bundle file: tags named, tags selected from its listing, or both.</summary>
/// <param name="Registry">Its registry.</param>
/// <param name="Repository">Its path in the registry.</param>
/// <param name="Line">Where it is written in the file.</param>
public sealed record BundleRepository(string Registry, string Repository, int Line)
{
    /// <summary>Tags and digests named in the file.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Which listed tags are taken besides (every tag for <c>repo: []</c>), or <see langword="null"/>.</summary>
    public TagSelection? Selection { get; init; }

    /// <summary>Its name at the destination (<c>as:</c>, a repository with or without a registry), or <see langword="null"/>.</summary>
    public string? As { get; init; }

    /// <summary>The repository's full name.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>The image lines its named tags and digests make (<c>registry/repo:tag</c>, <c>registry/repo@sha256:…</c>).</summary>
    public IEnumerable<string> NamedImages => Tags.Select(t => Digest.TryParse(t, out _) ? $"{Name}@{t}" : $"{Name}:{t}");
}

/// <summary>A plain file a bundle carries as an OCI artifact.</summary>
/// <param name="Path">The file.</param>
/// <param name="Name">Its artifact name (<c>repository:tag</c>), or <see langword="null"/> for one made from the file name.</param>
/// <param name="MediaType">Its media type, or <see langword="null"/> to choose one by extension.</param>
/// <param name="Line">Where it is written in the file.</param>
public sealed record BundleFileItem(string Path, string? Name, string? MediaType, int Line);

/// <summary>How a bundle file's registries are reached: its credentials and TLS settings laid over the run's.</summary>
public static class BundleAccess
{
    /// <summary>The credential sources with the bundle's credentials added, per registry.</summary>
    /// <param name="bundle">The bundle.</param>
    /// <param name="sources">The run's sources.</param>
    /// <returns>The sources to use.</returns>
    public static CredentialSources Credentials(BundleFile bundle, CredentialSources sources)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(sources);
        var perRegistry = new Dictionary<string, RegistryCredential>(sources.PerRegistry);
        foreach (var registry in bundle.Registries.Where(r => r.Credential is not null))
        {
            perRegistry[registry.Name] = registry.Credential!;
        }

        return sources with { PerRegistry = perRegistry };
    }

    /// <summary>The client options with the bundle's <c>tls-verify</c> and <c>cert-dir</c> per registry.</summary>
    /// <param name="bundle">The bundle.</param>
    /// <param name="options">The run's options.</param>
    /// <returns>The options to use.</returns>
    public static RegistryClientOptions Options(BundleFile bundle, RegistryClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        ArgumentNullException.ThrowIfNull(options);
        var hosts = new Dictionary<string, RegistryHostOptions>(options.Hosts);
        foreach (var registry in bundle.Registries.Where(r => r.TlsVerify is not null || r.CertDirectory is not null))
        {
            hosts[registry.Name] = new RegistryHostOptions(registry.TlsVerify, registry.CertDirectory);
        }

        return options with { Hosts = hosts };
    }
}
