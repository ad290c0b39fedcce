using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Errors;

namespace Ferry.Registry.Transport;

/// <summary>
/// The TLS files for one registry host, read the way Docker reads <c>/etc/docker/certs.d/&lt;host[:port]&gt;/</c>:
/// every <c>*.crt</c> is a CA added to the system roots, and each <c>NAME.cert</c> + <c>NAME.key</c> pair is a
/// client certificate for mutual TLS. A key without its certificate (or the reverse) is an error naming the file.
/// The directory name must equal the reference's host[:port] exactly (<c>host</c> and <c>host:443</c> differ).
/// </summary>
internal sealed class TlsMaterial
{
    private TlsMaterial(X509Certificate2Collection authorities, X509Certificate2Collection clientCertificates, IReadOnlyList<string> directories)
    {
        Authorities = authorities;
        ClientCertificates = clientCertificates;
        Directories = directories;
    }

    public static TlsMaterial None { get; } = new([], [], []);

    /// <summary>Extra CA certificates.</summary>
    public X509Certificate2Collection Authorities { get; }

    /// <summary>Client certificates with their private keys.</summary>
    public X509Certificate2Collection ClientCertificates { get; }

    /// <summary>The directories the files came from (for messages).</summary>
    public IReadOnlyList<string> Directories { get; }

    /// <summary>Loads the material for <paramref name="authority"/> (host[:port]).</summary>
    /// <param name="authority">The registry host as written in references.</param>
    /// <param name="roots">certs.d-style roots holding one directory per host.</param>
    /// <param name="certDir">A <c>--cert-dir</c>: its own files apply to every host, and its <c>&lt;host[:port]&gt;</c> subdirectory to that host.</param>
    /// <returns>The material; <see cref="None"/> when nothing applies.</returns>
    public static TlsMaterial Load(string authority, IEnumerable<string> roots, string? certDir)
    {
        var directories = new List<string>();
        foreach (var root in roots)
        {
            directories.Add(Path.Combine(root, authority));
        }

        if (certDir is not null)
        {
            if (!Directory.Exists(certDir))
            {
                throw new InvalidInputException($"certificate directory {certDir} (CertDirectory) does not exist");
            }

            directories.Add(certDir);
            directories.Add(Path.Combine(certDir, authority));
        }

        var authorities = new X509Certificate2Collection();
        var clients = new X509Certificate2Collection();
        var used = new List<string>();
        foreach (var directory in directories.Where(Directory.Exists))
        {
            used.Add(directory);
            LoadDirectory(directory, authorities, clients);
        }

        return used.Count == 0 ? None : new TlsMaterial(authorities, clients, used);
    }

    private static void LoadDirectory(string directory, X509Certificate2Collection authorities, X509Certificate2Collection clients)
    {
        foreach (var file in Directory.EnumerateFiles(directory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(file);
            try
            {
                if (name.EndsWith(".crt", StringComparison.Ordinal))
                {
                    authorities.ImportFromPemFile(file);
                }
                else if (name.EndsWith(".cert", StringComparison.Ordinal))
                {
                    var key = Path.ChangeExtension(file, ".key");
                    if (!File.Exists(key))
                    {
                        throw new InvalidInputException($"missing key {key} for client certificate {file}; note that CA certificates use the extension .crt");
                    }

                    using var pem = X509Certificate2.CreateFromPemFile(file, key);
                    // Re-import so the private key is usable by the TLS stack on every platform.
                    clients.Add(X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null));
                }
                else if (name.EndsWith(".key", StringComparison.Ordinal) && !File.Exists(Path.ChangeExtension(file, ".cert")))
                {
                    throw new InvalidInputException($"missing client certificate {Path.ChangeExtension(file, ".cert")} for key {file}");
                }
            }
            catch (UnauthorizedAccessException)
            {
                // As the containers tools do: unreadable files are skipped.
            }
            catch (CryptographicException ex)
            {
                throw new InvalidInputException($"{file} is not a valid PEM certificate or key: {ex.Message}");
            }
        }
    }
}
