using Ferry.Archives;
using Ferry.Archives.Format;
using Ferry.Errors;
using Ferry.Reading;

namespace Ferry.Signing;

/// <summary>
/// Signs a bundle after it was saved (<c>ferry sign</c>), as <c>zarf package sign</c> does: <c>index.json.sig</c> is added
/// beside <c>index.json</c>. A directory layout gets the file (temp + rename). An uncompressed tar gets one more entry
/// in place, written so the archive is valid at every instant: the entry's data and a new end-of-archive go past the old
/// end-of-archive blocks first (readers stop at those), then one 512-byte header write over the first of them makes the
/// entry appear. A compressed or split bundle cannot grow in place: it is signed when saved (<c>--sign-key</c>).
/// </summary>
public static class BundleSigner
{
    private const int Block = 512;

    /// <summary>Adds a signature of the bundle's <c>index.json</c> to it.</summary>
    /// <param name="path">A tar or a layout directory.</param>
    /// <param name="key">The private key.</param>
    /// <param name="cancellationToken">Cancels the signing (before the entry is made visible).</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidInputException">Not a Ferry-readable OCI bundle, compressed or split, or signed already.</exception>
    public static async Task SignAsync(string path, SigningKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(key);
        if (Directory.Exists(path))
        {
            await SignDirectoryAsync(path, key, cancellationToken).ConfigureAwait(false);
            return;
        }

        if (!File.Exists(path))
        {
            throw new InvalidInputException($"{path} does not exist");
        }

        if (CompressionDetector.DetectFile(path) != DetectedCompression.None)
        {
            throw new InvalidInputException($"{path} is compressed and cannot grow in place; sign it when saving (SignKey), or sign the uncompressed tar");
        }

        await using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        var (members, _) = await TarIndexer.IndexWithEndAsync(file, path, ArchiveFile.MaxMembers, cancellationToken).ConfigureAwait(false);
        var index = members.LastOrDefault(m => EntryNames.Normalize(m.Name) == OciIndexFile.FileName && m.Type is '0' or '\0');
        if (index is null || !members.Any(m => EntryNames.Normalize(m.Name) == "oci-layout"))
        {
            throw new InvalidInputException($"{path} is not an OCI layout bundle (no index.json and oci-layout); only those carry a bundle signature");
        }

        if (members.Any(m => EntryNames.Normalize(m.Name) == BundleSignature.FileName))
        {
            throw new InvalidInputException($"{path} is signed already ({BundleSignature.FileName})");
        }

        if (index.Size > ImageArchiveReader.MaxJsonBytes)
        {
            throw new InvalidInputException($"{path}: index.json is larger than {ImageArchiveReader.MaxJsonBytes} bytes");
        }

        var indexJson = new byte[index.Size];
        await RandomAccess.ReadAsync(file.SafeFileHandle, indexJson, index.Offset, cancellationToken).ConfigureAwait(false);
        OciIndexFile.Read(indexJson, path);
        var signature = BundleSignature.Create(indexJson, key);

        // Where the end-of-archive blocks start: right after the last member's padded data.
        var end = members.Max(m => m.Offset + m.Size + TarHeader.Pad(m.Size));
        var header = TarHeader.Build(BundleSignature.FileName, signature.Length, isDirectory: false);
        if (header.Length != Block)
        {
            throw new InvalidOperationException("a short name takes one header block");
        }

        var tail = new byte[signature.Length + TarHeader.Pad(signature.Length) + TarHeader.TrailerLength];
        signature.CopyTo(tail, 0);
        await RandomAccess.WriteAsync(file.SafeFileHandle, tail, end + Block, cancellationToken).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
        await RandomAccess.WriteAsync(file.SafeFileHandle, header, end, CancellationToken.None).ConfigureAwait(false);
        file.Flush(flushToDisk: true);
    }

    private static async Task SignDirectoryAsync(string path, SigningKey key, CancellationToken cancellationToken)
    {
        var indexPath = Path.Combine(path, OciIndexFile.FileName);
        var signaturePath = Path.Combine(path, BundleSignature.FileName);
        if (!File.Exists(indexPath) || !File.Exists(Path.Combine(path, "oci-layout")))
        {
            throw new InvalidInputException($"{path} is not an OCI layout bundle (no index.json and oci-layout)");
        }

        if (File.Exists(signaturePath))
        {
            throw new InvalidInputException($"{path} is signed already ({BundleSignature.FileName})");
        }

        var indexJson = await File.ReadAllBytesAsync(indexPath, cancellationToken).ConfigureAwait(false);
        OciIndexFile.Read(indexJson, path);
        // A fresh name, created exclusively: nothing planted in the layout can redirect the write.
        var temporary = Path.Combine(path, Content.Debris.TemporaryName(signaturePath));
        await using (var file = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            await file.WriteAsync(BundleSignature.Create(indexJson, key), cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, signaturePath);
    }
}
