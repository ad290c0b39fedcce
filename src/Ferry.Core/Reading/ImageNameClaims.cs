using Ferry.Errors;
using Ferry.References;

namespace Ferry.Reading;

/// <summary>
/// The one rule for an image name that several archives hold — the same for <c>merge</c>, <c>serve</c> and
/// <c>load</c>: at the same digest it is one image (taken once); at different digests it is refused, naming both
/// archives, since no command can tell which one was meant. Names compare in full (<c>nginx:1</c> is
/// <c>docker.io/library/nginx:1</c>).
/// </summary>
/// <param name="advice">What the user can do, for the message (<c>serve one of them</c>).</param>
internal sealed class ImageNameClaims(string advice)
{
    private readonly Dictionary<string, (Digest Digest, string Archive)> _claims = new(StringComparer.Ordinal);

    /// <summary>Claims a name for an image.</summary>
    /// <param name="name">The name as the archive gives it.</param>
    /// <param name="digest">The digest of the image's top manifest or index.</param>
    /// <param name="archive">Where it was found, for the message.</param>
    /// <returns><see langword="true"/> when the name is new; <see langword="false"/> when the same image was claimed already.</returns>
    /// <exception cref="InvalidInputException">The name was claimed at another digest.</exception>
    public bool Claim(string name, Digest digest, string archive)
    {
        var key = ImageReference.TryParse(name, out var reference, out _) ? reference!.ToString() : name;
        if (_claims.TryGetValue(key, out var first))
        {
            return first.Digest == digest
                ? false
                : throw new InvalidInputException($"{key} is {first.Digest.Short} in {first.Archive} but {digest.Short} in {archive}; {advice}");
        }

        _claims[key] = (digest, archive);
        return true;
    }
}
