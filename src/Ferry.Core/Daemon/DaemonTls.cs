using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ferry.Errors;

namespace Ferry.Daemon;

/// <summary>TLS to a daemon on tcp://, as the docker CLI does it: the daemon's certificate checked against the given CA, a client certificate presented.</summary>
internal static class DaemonTls
{
    public static SocketsHttpHandler CreateHandler(DockerEndpoint endpoint)
    {
        var authorities = new X509Certificate2Collection();
        var clients = new X509Certificate2Collection();
        try
        {
            if (endpoint.CaFile is not null)
            {
                authorities.ImportFromPemFile(Require(endpoint.CaFile, "CA certificate"));
            }

            if (endpoint.CertFile is not null || endpoint.KeyFile is not null)
            {
                if (endpoint.CertFile is null || endpoint.KeyFile is null)
                {
                    throw new InvalidInputException("a client certificate needs both a certificate and a key file (CertFile, KeyFile)");
                }

                using var pem = X509Certificate2.CreateFromPemFile(Require(endpoint.CertFile, "client certificate"), Require(endpoint.KeyFile, "client key"));
                clients.Add(X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null));
            }
        }
        catch (CryptographicException ex)
        {
            throw new InvalidInputException($"the TLS files for the Docker daemon ({endpoint.Source}) are not valid PEM: {ex.Message}");
        }

        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = clients.Count > 0 ? clients : null,
                RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(endpoint, authorities, certificate, chain, errors),
            },
        };
    }

    private static string Require(string path, string what) =>
        File.Exists(path) ? path : throw new InvalidInputException($"the {what} {path} does not exist");

    private static bool Validate(DockerEndpoint endpoint, X509Certificate2Collection authorities, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!endpoint.TlsVerify || errors == SslPolicyErrors.None)
        {
            return true;
        }

        return errors == SslPolicyErrors.RemoteCertificateChainErrors && certificate is not null && Registry.Transport.CustomRootTrust.Validates(certificate, chain, authorities);
    }
}
