using Ferry.Errors;
using Ferry.References;

namespace Ferry.Loading;

/// <summary>A registry and a path prefix (<c>--to host[:port][/prefix]</c>) that images are pushed under, keeping their repository paths and tags.</summary>
/// <param name="Registry">The registry host.</param>
/// <param name="Prefix">The path prefix, or empty.</param>
public sealed record RegistryTarget(string Registry, string Prefix)
{
    /// <summary>Parses a <c>--to</c> value.</summary>
    /// <param name="target"><c>host[:port][/prefix]</c>, optionally with a URL scheme.</param>
    /// <returns>The target.</returns>
    /// <exception cref="InvalidInputException">Not a registry reference.</exception>
    public static RegistryTarget Parse(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        var trimmed = target.Trim().TrimEnd('/');
        var scheme = trimmed.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            trimmed = trimmed[(scheme + 3)..];
        }

        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        var host = slash < 0 ? trimmed : trimmed[..slash];
        var prefix = slash < 0 ? string.Empty : trimmed[(slash + 1)..];
        var valid = ImageReference.TryParse($"{host}/{(prefix.Length == 0 ? "x" : prefix + "/x")}:t", out var check, out var error);
        if (host.Length == 0 || !valid || check!.Registry != host)
        {
            throw new InvalidInputException($"{target} is not a registry host[:port][/prefix]{(error is null ? string.Empty : ": " + error)}");
        }

        return new RegistryTarget(host, prefix);
    }

    /// <summary>Where an image goes: this registry, the prefix, then the image's repository path and tag (or digest).</summary>
    /// <param name="source">The image's name.</param>
    /// <returns>The target reference.</returns>
    public ImageReference For(ImageReference source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var repository = Prefix.Length == 0 ? source.Repository : $"{Prefix}/{source.Repository}";
        var text = $"{Registry}/{repository}" + (source.Tag is { } tag ? ":" + tag : string.Empty) + (source.Tag is null && source.Digest is { } digest ? "@" + digest : string.Empty);
        return ImageReference.Parse(text);
    }
}
