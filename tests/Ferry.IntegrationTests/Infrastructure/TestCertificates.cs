using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A private CA generated in the test, with a server certificate for 127.0.0.1 / localhost / registry.ferry.test
/// and a client certificate, written as PEM files the way certs.d and the registry expect them.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    public const string ProxiedName = "registry.ferry.test";
    private readonly RSA _caKey = RSA.Create(2048);

    public TestCertificates(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        var caRequest = new CertificateRequest("CN=Ferry Test CA", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Authority = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllText(CaFile, Authority.ExportCertificatePem());

        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        san.AddDnsName(ProxiedName);
        Issue("server", "CN=127.0.0.1", san.Build(), X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, "1.3.6.1.5.5.7.3.1");
        Issue("client", "CN=ferry-test-client", null, X509KeyUsageFlags.DigitalSignature, "1.3.6.1.5.5.7.3.2");
    }

    public string Directory { get; }

    public X509Certificate2 Authority { get; }

    public string CaFile => Path.Combine(Directory, "ca.crt");

    public string ServerCertificate => Path.Combine(Directory, "server.pem");

    public string ServerKey => Path.Combine(Directory, "server-key.pem");

    public string ClientCertificate => Path.Combine(Directory, "client.cert");

    public string ClientKey => Path.Combine(Directory, "client.key");

    /// <summary>Lays out a certs.d-style directory for one host: ca.crt, and client.cert + client.key when asked.</summary>
    public string CertsDirectory(string root, string authority, bool withClientCertificate)
    {
        var directory = Path.Combine(root, authority);
        System.IO.Directory.CreateDirectory(directory);
        File.Copy(CaFile, Path.Combine(directory, "ca.crt"), overwrite: true);
        if (withClientCertificate)
        {
            File.Copy(ClientCertificate, Path.Combine(directory, "client.cert"), overwrite: true);
            File.Copy(ClientKey, Path.Combine(directory, "client.key"), overwrite: true);
        }

        return directory;
    }

    public void Dispose()
    {
        Authority.Dispose();
        _caKey.Dispose();
    }

    private void Issue(string name, string subject, X509Extension? san, X509KeyUsageFlags usage, string eku)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
        if (san is not null)
        {
            request.CertificateExtensions.Add(san);
        }

        var serial = RandomNumberGenerator.GetBytes(12);
        using var certificate = request.Create(Authority, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), serial);
        var certificatePath = name == "client" ? ClientCertificate : ServerCertificate;
        var keyPath = name == "client" ? ClientKey : ServerKey;
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
    }
}
