using Ferry.Errors;

namespace Ferry.Transfer;

/// <summary>What kind of place an <see cref="ImageLocation"/> names.</summary>
public enum LocationKind
{
    /// <summary>A registry (<c>docker://REF</c>).</summary>
    Registry,

    /// <summary>A Docker Engine (<c>docker-daemon:REF</c>).</summary>
    Daemon,

    /// <summary>An archive file or layout directory (<c>docker-archive:</c>, <c>oci-archive:</c>, <c>oci:</c>, <c>ferry-archive:</c>, a plain path).</summary>
    Archive,

    /// <summary>A transport registered for the run (<see cref="ImageTransport"/>).</summary>
    Registered,
}

/// <summary>
/// Where images come from or go, in skopeo's transport syntax, which users already know: <c>docker://REF</c>,
/// <c>docker-daemon:REF</c>, <c>docker-archive:PATH[:REF]</c>, <c>oci-archive:PATH[:REF]</c>, <c>oci:DIR[:REF]</c>, and
/// <c>ferry-archive:PATH[:REF]</c> or a plain path for Ferry's own archives. Every archive transport reads any format
/// Ferry reads; when written, <c>oci:</c> is a layout directory and the others one tar file (Ferry's tar is a
/// docker-archive and an OCI archive at once; <c>.tar.gz</c>/<c>.tar.zst</c> compress it).
/// </summary>
/// <param name="Kind">Registry, Docker Engine or archive.</param>
/// <param name="Transport">The transport as written (<c>docker</c>, <c>oci</c>…; <c>ferry-archive</c> for a plain path).</param>
/// <param name="Path">The archive's path (archives only).</param>
/// <param name="Reference">The image reference: required for registries, optional for an Engine destination and archives (it selects an image when read, names it when written).</param>
public sealed record ImageLocation(LocationKind Kind, string Transport, string? Path, string? Reference)
{
    /// <summary>The transports, in the order messages list them.</summary>
    public static IReadOnlyList<string> Transports { get; } = ["docker://", "docker-daemon:", "docker-archive:", "oci-archive:", "oci:", "ferry-archive:"];

    /// <summary>Whether the archive is written as a layout directory (<c>oci:</c>).</summary>
    public bool IsDirectory => Kind == LocationKind.Archive && Transport == "oci";

    /// <summary>Whether <paramref name="text"/> starts with one of the <see cref="Transports"/>.</summary>
    /// <param name="text">A source or destination as given.</param>
    /// <returns><see langword="true"/> when it names a transport.</returns>
    public static bool HasTransport(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Transports.Any(t => text.StartsWith(t, StringComparison.Ordinal));
    }

    /// <summary>Reads a source: a transport reference; without one, an existing file or directory (or <c>-</c>) is an archive, anything else a registry reference.</summary>
    /// <param name="text">The source as given.</param>
    /// <returns>The location.</returns>
    /// <exception cref="InvalidInputException">Malformed.</exception>
    /// <param name="registered">Transports registered for the run, checked before the built-in ones.</param>
    public static ImageLocation ParseSource(string text, IReadOnlyList<ImageTransport>? registered = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (Registered(trimmed, registered) is { } own)
        {
            return own;
        }

        if (HasTransport(trimmed))
        {
            return ParseTransport(trimmed, writing: false);
        }

        return trimmed == "-" || File.Exists(trimmed) || Directory.Exists(trimmed)
            ? new ImageLocation(LocationKind.Archive, "ferry-archive", trimmed, null)
            : new ImageLocation(LocationKind.Registry, "docker", null, Required(trimmed, text));
    }

    /// <summary>
    /// Reads a destination: a transport reference, or a plain path that is clearly one (it starts with <c>/</c>,
    /// <c>./</c> or <c>../</c>, or ends in <c>.tar</c>, <c>.tar.gz</c>, <c>.tgz</c>, <c>.tar.zst</c>). A bare name is refused
    /// rather than guessed: <c>registry:5000/app</c> could be either.
    /// </summary>
    /// <param name="text">The destination as given.</param>
    /// <returns>The location.</returns>
    /// <exception cref="InvalidInputException">Malformed or ambiguous.</exception>
    /// <param name="registered">Transports registered for the run, checked before the built-in ones.</param>
    public static ImageLocation ParseDestination(string text, IReadOnlyList<ImageTransport>? registered = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (Registered(trimmed, registered) is { } own)
        {
            return own;
        }

        if (HasTransport(trimmed))
        {
            return ParseTransport(trimmed, writing: true);
        }

        if (LooksLikePath(trimmed))
        {
            return new ImageLocation(LocationKind.Archive, "ferry-archive", trimmed, null);
        }

        throw new InvalidInputException($"{text}: say what the destination is: docker://REGISTRY/REPOSITORY:TAG, docker-daemon:NAME:TAG, docker-archive:FILE.tar, oci-archive:FILE.tar, oci:DIRECTORY or a path ending in .tar");
    }

    /// <summary>
    /// Whether text is written as a path rather than an image name: it starts with <c>/</c>, <c>./</c> or <c>../</c>,
    /// or ends in <c>.tar</c>, <c>.tar.gz</c>, <c>.tgz</c>, <c>.tar.zst</c> or <c>.tzst</c>.
    /// </summary>
    /// <param name="text">A source or destination as given.</param>
    /// <returns><see langword="true"/> when it can only be a path.</returns>
    public static bool LooksLikePath(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] suffixes = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tzst"];
        return text.StartsWith('/') || text.StartsWith("./", StringComparison.Ordinal) || text.StartsWith("../", StringComparison.Ordinal) ||
               suffixes.Any(s => text.EndsWith(s, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The location as skopeo writes it.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Kind switch
    {
        LocationKind.Registry => $"docker://{Reference}",
        LocationKind.Daemon => $"docker-daemon:{Reference}",
        LocationKind.Registered => $"{Transport}{Reference}",
        _ => Transport == "ferry-archive" && Reference is null ? Path! : $"{Transport}:{Path}{(Reference is null ? string.Empty : ":" + Reference)}",
    };

    private static ImageLocation? Registered(string text, IReadOnlyList<ImageTransport>? registered) =>
        registered?.FirstOrDefault(t => text.StartsWith(t.Prefix, StringComparison.Ordinal)) is { } transport
            ? new ImageLocation(LocationKind.Registered, transport.Prefix, null, text[transport.Prefix.Length..])
            : null;

    /// <summary>A registry image as every registry command takes it: a reference, with or without skopeo's <c>docker://</c>.</summary>
    /// <param name="text">The image as given.</param>
    /// <returns>The reference.</returns>
    /// <exception cref="InvalidInputException">It is not a reference.</exception>
    public static References.ImageReference RegistryReference(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return References.ImageReference.Parse(WithoutDockerTransport(text));
    }

    private static string WithoutDockerTransport(string text) => text.StartsWith("docker://", StringComparison.Ordinal) ? text["docker://".Length..] : text;

    private static ImageLocation ParseTransport(string text, bool writing)
    {
        if (text.StartsWith("docker://", StringComparison.Ordinal))
        {
            return new ImageLocation(LocationKind.Registry, "docker", null, Required(WithoutDockerTransport(text), text));
        }

        if (text.StartsWith("docker-daemon:", StringComparison.Ordinal))
        {
            var name = text["docker-daemon:".Length..];
            return new ImageLocation(LocationKind.Daemon, "docker-daemon", null, writing && name.Length == 0 ? null : Required(name, text));
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var transport = text[..colon];
        var rest = text[(colon + 1)..];

        // skopeo's rule: the path ends at the first colon; the rest names the image.
        var split = rest.IndexOf(':', StringComparison.Ordinal);
        var path = split < 0 ? rest : rest[..split];
        var reference = split < 0 ? null : rest[(split + 1)..];
        if (path.Length == 0)
        {
            throw new InvalidInputException($"{text}: {transport}: needs a path ({transport}:PATH[:REFERENCE])");
        }

        if (reference is { Length: 0 })
        {
            throw new InvalidInputException($"{text}: nothing after the colon; give an image reference or leave the colon out");
        }

        return new ImageLocation(LocationKind.Archive, transport, path, reference);
    }

    private static string Required(string reference, string text) =>
        reference.Trim().Length > 0 ? reference.Trim() : throw new InvalidInputException($"{text}: an image reference is missing");
}
