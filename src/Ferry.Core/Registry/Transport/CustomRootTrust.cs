using System.Security.Cryptography.X509Certificates;

namespace Ferry.Registry.Transport;

/// <summary>Checks a server certificate against extra CAs (certs.d <c>*.crt</c>, <c>--tlscacert</c>) when the system store does not trust it.</summary>
internal static class CustomRootTrust
{
    /// <summary>Whether <paramref name="certificate"/> chains to one of <paramref name="authorities"/>.</summary>
    /// <param name="certificate">The server's certificate.</param>
    /// <param name="chain">The chain the TLS stack built (its intermediates are reused).</param>
    /// <param name="authorities">The extra CAs.</param>
    /// <returns><see langword="true"/> when it does.</returns>
    public static bool Validates(X509Certificate certificate, X509Chain? chain, X509Certificate2Collection authorities)
    {
        if (authorities.Count == 0)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(authorities);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }
}
