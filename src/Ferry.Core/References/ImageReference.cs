using System.Text.RegularExpressions;
using Ferry.Errors;

namespace Ferry.References;

/// <summary>
/// A normalised image reference: registry, repository, and a tag and/or digest. Parsing follows
/// distribution/reference (<c>reference.go</c> grammar, <c>normalize.go</c> for Docker Hub names), so
/// <c>nginx</c> becomes <c>docker.io/library/nginx:latest</c> exactly as <c>docker pull</c> does.
/// </summary>
public sealed partial record ImageReference
{
    /// <summary>The canonical name of Docker Hub.</summary>
    public const string DockerHub = "docker.io";

    private const int MaxNameLength = 255;

    private ImageReference(string registry, string repository, string? tag, Digest? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>The registry host, with port if any (<c>docker.io</c>, <c>127.0.0.1:5000</c>).</summary>
    public string Registry { get; }

    /// <summary>The repository path inside the registry (<c>library/nginx</c>).</summary>
    public string Repository { get; }

    /// <summary>The tag; <see langword="null"/> only when the reference names a digest alone.</summary>
    public string? Tag { get; }

    /// <summary>The digest the reference pins, if any.</summary>
    public Digest? Digest { get; }

    /// <summary>The fully qualified repository name, <c>registry/repository</c>.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>What to ask the registry for: the digest when pinned, else the tag.</summary>
    public string ManifestReference => Digest?.ToString() ?? Tag!;

    /// <summary>The host to talk to: Docker Hub's API lives at <c>registry-1.docker.io</c>.</summary>
    public string RegistryHost => Registry == DockerHub ? "registry-1.docker.io" : Registry;

    /// <summary>
    /// Whether a name's first part is a registry host rather than a path component, as docker reads it: it has a dot or a
    /// port, is <c>localhost</c>, or has capitals (which no repository may).
    /// </summary>
    /// <param name="first">The text before the first slash (or a whole argument that may be a host alone).</param>
    /// <returns><see langword="true"/> for a host.</returns>
    public static bool IsRegistryHost(string first)
    {
        ArgumentNullException.ThrowIfNull(first);
        return first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost" || first.Any(char.IsUpper);
    }

    /// <summary>Parses and normalises a reference; a missing tag means <c>latest</c>.</summary>
    /// <param name="value">The reference as a user writes it.</param>
    /// <returns>The normalised reference.</returns>
    /// <exception cref="InvalidInputException">The text is not a valid reference.</exception>
    public static ImageReference Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        if (text.Length == 0)
        {
            throw Invalid(value, "empty reference");
        }

        Digest? digest = null;
        var at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            var digestText = text[(at + 1)..];
            if (!References.Digest.TryParse(digestText, out var parsed))
            {
                throw Invalid(value, $"invalid digest \"{digestText}\"");
            }

            digest = parsed;
            text = text[..at];
        }

        string? tag = null;
        var lastColon = text.LastIndexOf(':');
        if (lastColon > text.LastIndexOf('/'))
        {
            tag = text[(lastColon + 1)..];
            text = text[..lastColon];
            if (!TagPattern().IsMatch(tag))
            {
                throw Invalid(value, $"invalid tag \"{tag}\"");
            }
        }

        var (registry, repository) = SplitDomain(text, value);
        if (repository.Length == 0 || !RepositoryPattern().IsMatch(repository))
        {
            throw Invalid(value, repository.Any(char.IsUpper) ? "repository name must be lowercase" : "invalid repository name");
        }

        if (!DomainPattern().IsMatch(registry))
        {
            throw Invalid(value, $"invalid registry \"{registry}\"");
        }

        if (registry.Length + 1 + repository.Length > MaxNameLength)
        {
            throw Invalid(value, "repository name must not be more than 255 characters");
        }

        if (tag is null && digest is null)
        {
            tag = "latest";
        }

        return new ImageReference(registry, repository, tag, digest);
    }

    /// <summary>Tries to parse a reference.</summary>
    /// <param name="value">The reference text.</param>
    /// <param name="reference">The reference when valid.</param>
    /// <param name="error">Why it is invalid, otherwise <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the text is a valid reference.</returns>
    public static bool TryParse(string value, out ImageReference? reference, out string? error)
    {
        try
        {
            reference = Parse(value);
            error = null;
            return true;
        }
        catch (InvalidInputException ex)
        {
            reference = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>Returns this reference in another registry (the repository, tag and digest stay).</summary>
    /// <param name="registry">The new registry host.</param>
    /// <returns>The rewritten reference.</returns>
    public ImageReference WithRegistry(string registry) => new(registry, Repository, Tag, Digest);

    /// <summary>The full reference: <c>name:tag</c>, <c>name@digest</c> or <c>name:tag@digest</c>.</summary>
    /// <returns>The canonical string.</returns>
    public override string ToString() =>
        Name + (Tag is null ? string.Empty : ":" + Tag) + (Digest is { } d ? "@" + d : string.Empty);

    /// <summary>The tagged name (<c>registry/repository:tag</c>), or <see langword="null"/> for digest-only references.</summary>
    public string? TaggedName => Tag is null ? null : $"{Name}:{Tag}";

    private static (string Registry, string Repository) SplitDomain(string name, string original)
    {
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        string registry;
        string repository;
        if (slash < 0)
        {
            registry = DockerHub;
            repository = name;
        }
        else
        {
            var first = name[..slash];
            if (IsRegistryHost(first))
            {
                registry = first;
                repository = name[(slash + 1)..];
            }
            else
            {
                registry = DockerHub;
                repository = name;
            }
        }

        if (registry == "index.docker.io")
        {
            registry = DockerHub;
        }

        if (registry == DockerHub && !repository.Contains('/', StringComparison.Ordinal))
        {
            repository = "library/" + repository;
        }

        if (repository.Length == 0)
        {
            throw Invalid(original, "missing repository name");
        }

        return (registry, repository);
    }

    private static InvalidInputException Invalid(string value, string why) =>
        new($"invalid reference \"{(value.Length > 200 ? value[..200] + "…" : value)}\": {why}");

    /// <summary>Whether a text is a valid tag (the rule every reference is parsed by).</summary>
    /// <param name="tag">The tag.</param>
    /// <returns><see langword="true"/> when it is one.</returns>
    internal static bool IsTag(string tag) => TagPattern().IsMatch(tag);

    [GeneratedRegex(@"^[\w][\w.-]{0,127}$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();

    [GeneratedRegex(@"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex(@"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex DomainPattern();
}
