using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Errors;

namespace Ferry.Server;

/// <summary>The certificates <c>ferry serve --tls auto</c> made or reused.</summary>
/// <param name="Directory">Where they are kept.</param>
/// <param name="CaCertificate">The CA certificate clients install (<c>ca.crt</c>).</param>
/// <param name="Certificate">The server certificate (<c>server.crt</c>).</param>
/// <param name="Key">Its private key (<c>server.key</c>).</param>
/// <param name="Names">The names and addresses the server certificate covers.</param>
/// <param name="Created">Whether the CA was made by this call (clients must install it) rather than reused.</param>
public sealed record ServerCertificateSet(string Directory, string CaCertificate, string Certificate, string Key, IReadOnlyList<string> Names, bool Created);

/// <summary>
/// A private CA and a server certificate for the names and addresses <c>ferry serve</c> listens on, made with the
/// base library (ECDSA P-256) and kept in a directory of their own (mode 0700, keys 0600) so clients install the CA
/// once: later runs reuse the CA and issue a new server certificate only when the names change or it nears expiry.
/// </summary>
public static class ServerCertificates
{
    private static readonly TimeSpan CaLifetime = TimeSpan.FromDays(3650);
    private static readonly TimeSpan ServerLifetime = TimeSpan.FromDays(397);

    /// <summary>The names a server listening on <paramref name="listen"/> answers to: the address itself, or every local address and the host name for a wildcard.</summary>
    /// <param name="listen">The listen endpoint.</param>
    /// <param name="extra">Names given by the user (a DNS name, a NAT address).</param>
    /// <returns>Names and addresses, the most useful first.</returns>
    public static IReadOnlyList<string> NamesFor(IPEndPoint listen, IEnumerable<string> extra)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var names = new List<string>(extra);
        if (listen.Address.Equals(IPAddress.Any) || listen.Address.Equals(IPAddress.IPv6Any))
        {
            foreach (var address in NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Select(u => u.Address)
                .Where(a => a.AddressFamily == AddressFamily.InterNetwork || (a.AddressFamily == AddressFamily.InterNetworkV6 && !a.IsIPv6LinkLocal))
                .OrderBy(a => IPAddress.IsLoopback(a) ? 1 : 0))
            {
                names.Add(address.ToString());
            }

            names.Add(Dns.GetHostName());
        }
        else
        {
            names.Add(listen.Address.ToString());
        }

        names.Add("localhost");
        names.Add("127.0.0.1");
        return [.. names.Distinct(StringComparer.OrdinalIgnoreCase)];
    }

    /// <summary>Makes (or reuses) the CA and a server certificate covering <paramref name="names"/> in <paramref name="directory"/>.</summary>
    /// <param name="directory">Where to keep them (created, mode 0700).</param>
    /// <param name="names">DNS names and IP addresses.</param>
    /// <returns>The files.</returns>
    /// <exception cref="OutputException">The directory cannot be used (not ours, a link, not writable).</exception>
    public static ServerCertificateSet Ensure(string directory, IReadOnlyList<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        directory = Path.GetFullPath(directory);
        PrepareDirectory(directory);
        var caPath = Path.Combine(directory, "ca.crt");
        var caKeyPath = Path.Combine(directory, "ca.key");
        var certPath = Path.Combine(directory, "server.crt");
        var keyPath = Path.Combine(directory, "server.key");
        try
        {
            var created = false;
            X509Certificate2 ca;
            if (File.Exists(caPath) && File.Exists(caKeyPath) && TryLoad(caPath, caKeyPath) is { } existing && existing.NotAfter > DateTime.Now.AddDays(30))
            {
                ca = existing;
            }
            else
            {
                ca = CreateCa();
                WriteSecretly(caKeyPath, ca.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
                WriteSecretly(caPath, ca.ExportCertificatePem());
                File.Delete(certPath);
                created = true;
            }

            using (ca)
            {
                if (created || TryLoad(certPath, keyPath) is not { } server || server.NotAfter < DateTime.Now.AddDays(30) || !Covers(server, names) || server.Issuer != ca.Subject)
                {
                    using var issued = Issue(ca, names);
                    WriteSecretly(keyPath, issued.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
                    WriteSecretly(certPath, issued.ExportCertificatePem());
                }
                else
                {
                    server.Dispose();
                }
            }

            return new ServerCertificateSet(directory, caPath, certPath, keyPath, names, created);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new OutputException($"--tls auto: cannot keep certificates in {directory}: {ex.Message}", ex);
        }
    }

    private static void PrepareDirectory(string directory)
    {
        var info = new DirectoryInfo(directory);
        if (info.LinkTarget is not null)
        {
            throw new OutputException($"--tls auto: {directory} is a symbolic link; refusing to keep keys behind it (use --tls-dir)");
        }

        try
        {
            if (!info.Exists)
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(directory);
                }
                else
                {
                    Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
            else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(directory) & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0)
            {
                throw new OutputException($"--tls auto: {directory} can be written by others; refusing to keep keys there (use --tls-dir)");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"--tls auto: cannot create {directory}: {ex.Message} (use --tls-dir)", ex);
        }
    }

    private static X509Certificate2? TryLoad(string certificate, string key)
    {
        try
        {
            return File.Exists(certificate) && File.Exists(key) ? X509Certificate2.CreateFromPemFile(certificate, key) : null;
        }
        catch (Exception ex) when (ex is CryptographicException or IOException)
        {
            return null;
        }
    }

    private static bool Covers(X509Certificate2 certificate, IReadOnlyList<string> names)
    {
        var san = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().FirstOrDefault();
        if (san is null)
        {
            return false;
        }

        var have = san.EnumerateDnsNames().Concat(san.EnumerateIPAddresses().Select(a => a.ToString())).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return names.All(have.Contains);
    }

    private static X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=ferry serve CA {Environment.MachineName} {DateTime.UtcNow:yyyy-MM-dd}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        return request.CreateSelfSigned(now, now + CaLifetime);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, IReadOnlyList<string> names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={names[0]}", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var now = DateTimeOffset.UtcNow.AddMinutes(-5);
        var notAfter = now + ServerLifetime < ca.NotAfter ? now + ServerLifetime : new DateTimeOffset(ca.NotAfter);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var publicOnly = request.Create(ca, now, notAfter, serial);
        return publicOnly.CopyWithPrivateKey(key);
    }

    /// <summary>Writes a file under a fresh name (mode 0600, never through a link) and renames it into place.</summary>
    private static void WriteSecretly(string path, string text)
    {
        var temporary = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var file = new FileStream(temporary, options))
        using (var writer = new StreamWriter(file))
        {
            writer.Write(text);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
