using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ferry.Errors;
using Ferry.References;

namespace Ferry.Saving;

/// <summary>
/// One part of a deterministic partition of an image list (<c>--shard 3/16</c>: the third of sixteen, 1-based as in
/// Jest's and Playwright's <c>--shard</c>), so N machines — a Kubernetes Indexed Job, a CI matrix — each save a part
/// and <c>ferry merge</c> or <c>ferry load</c> takes them all. An image belongs to shard
/// <c>1 + (first 8 bytes of SHA-256(its normalized reference), big-endian) mod N</c>: the same on every machine and in
/// every run, independent of the list's order, its comments and its other lines.
/// </summary>
/// <param name="Index">Which part, 1 to <paramref name="Count"/>.</param>
/// <param name="Count">How many parts.</param>
public sealed record Shard(int Index, int Count)
{
    /// <summary>Parses <c>INDEX/COUNT</c>, e.g. <c>3/16</c>.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The shard.</returns>
    /// <exception cref="InvalidInputException">Not of that form, or the index is not between 1 and the count.</exception>
    public static Shard Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('/');
        if (parts.Length != 2 ||
            !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) ||
            !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) ||
            count < 1 || count > 10_000 || index < 1 || index > count)
        {
            throw new InvalidInputException($"shard \"{text}\" is not INDEX/COUNT with 1 ≤ INDEX ≤ COUNT ≤ 10000 (e.g. 3/16)");
        }

        return new Shard(index, count);
    }

    /// <summary>The shard (1-based) an image belongs to among <paramref name="count"/>.</summary>
    /// <param name="image">The image as written in the list; it is normalized first (<c>nginx</c> = <c>docker.io/library/nginx:latest</c>).</param>
    /// <param name="count">How many shards.</param>
    /// <returns>1 to <paramref name="count"/>.</returns>
    public static int Of(string image, int count)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var text = image.Trim();
        var key = ImageReference.TryParse(text, out var reference, out _) ? reference!.ToString() : text;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return (int)(BinaryPrimitives.ReadUInt64BigEndian(hash) % (ulong)count) + 1;
    }

    /// <summary>Whether an image of the list belongs to this shard.</summary>
    /// <param name="image">The image as written.</param>
    /// <returns><see langword="true"/> when it is this shard's to save.</returns>
    public bool Contains(string image) => Of(image, Count) == Index;

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
