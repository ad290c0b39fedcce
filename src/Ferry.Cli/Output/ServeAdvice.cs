using System.Net;
using System.Text;
using Ferry.Errors;
using Ferry.Server;

namespace Ferry.Cli.Output;

/// <summary>
/// What <c>ferry serve</c> tells the people running the clients at start-up: docker, podman and containerd pull over
/// HTTPS from every host but loopback, so a server on another address needs TLS they trust, or a setting on each
/// client. The lines are ready to paste.
/// </summary>
internal static class ServeAdvice
{
    /// <summary>The certificates of <c>--tls auto</c>, made or reused; <see langword="null"/> without it.</summary>
    public static ServerCertificateSet? Certificates(string? mode, string? directory, string[] names, bool hasOwnCertificate, IPEndPoint endpoint, string firstArchive)
    {
        if (mode != "auto")
        {
            if (directory is not null || names.Length > 0)
            {
                throw new InvalidInputException("--tls-dir and --tls-name are for --tls auto");
            }

            return null;
        }

        if (hasOwnCertificate)
        {
            throw new InvalidInputException("--tls auto makes its own certificate; leave out --tls-cert/--tls-key (or leave out --tls auto)");
        }

        var beside = Path.GetDirectoryName(Path.GetFullPath(firstArchive.TrimEnd('/'))) ?? ".";
        return ServerCertificates.Ensure(directory ?? Path.Combine(beside, "ferry-serve-tls"), ServerCertificates.NamesFor(endpoint, names));
    }

    /// <summary>The lines for the clients, or nothing when a loopback server needs none.</summary>
    public static string ForClients(Uri address, IPEndPoint endpoint, ServerCertificateSet? certificates, bool hasTls)
    {
        var text = new StringBuilder();
        var wildcard = endpoint.Address.Equals(IPAddress.Any) || endpoint.Address.Equals(IPAddress.IPv6Any);
        if (certificates is not null)
        {
            var host = $"{(wildcard ? certificates.Names[0] : HostText(endpoint.Address))}:{address.Port}";
            text.AppendLine($"ferry: TLS: {(certificates.Created ? "made a new CA" : "reusing the CA")} in {certificates.Directory} (certificate for {string.Join(", ", certificates.Names)}).");
            text.AppendLine($"ferry: on each client, trust {certificates.CaCertificate} once (as root), for {host}{(wildcard ? " (and each other name above the clients use)" : string.Empty)}:");
            text.AppendLine($"  docker:     mkdir -p /etc/docker/certs.d/{host} && cp {certificates.CaCertificate} /etc/docker/certs.d/{host}/ca.crt");
            text.AppendLine($"  podman, skopeo, buildah: mkdir -p /etc/containers/certs.d/{host} && cp {certificates.CaCertificate} /etc/containers/certs.d/{host}/ca.crt");
            text.AppendLine($"  containerd: mkdir -p /etc/containerd/certs.d/{host} && cp {certificates.CaCertificate} /etc/containerd/certs.d/{host}/ca.crt && printf 'server = \"https://{host}\"\\n[host.\"https://{host}\"]\\n  ca = \"/etc/containerd/certs.d/{host}/ca.crt\"\\n' > /etc/containerd/certs.d/{host}/hosts.toml");
            text.AppendLine("              (containerd's CRI reads it with config_path = \"/etc/containerd/certs.d\"; ctr with --hosts-dir /etc/containerd/certs.d)");
            text.AppendLine($"  ferry:      --cert-dir, or the docker/containers certs.d directories above");
            return text.ToString();
        }

        if (hasTls || IPAddress.IsLoopback(endpoint.Address))
        {
            return string.Empty;
        }

        var plain = $"{(wildcard ? "HOST" : HostText(endpoint.Address))}:{address.Port}";
        text.AppendLine($"ferry: warning: plain HTTP on {(wildcard ? "every interface" : HostText(endpoint.Address))}: docker, podman and containerd pull over HTTPS from any host but loopback, and refuse this server (\"server gave HTTP response to HTTPS client\").");
        text.AppendLine("ferry: use --tls auto (or --tls-cert/--tls-key), or mark it insecure on each client:");
        text.AppendLine($"  docker:     \"insecure-registries\": [\"{plain}\"] in /etc/docker/daemon.json, then restart dockerd (or dockerd --insecure-registry {plain})");
        text.AppendLine($"  podman, skopeo, buildah: [[registry]] location = \"{plain}\" insecure = true   in /etc/containers/registries.conf (skopeo: --src-tls-verify=false)");
        text.AppendLine($"  containerd: /etc/containerd/certs.d/{plain}/hosts.toml: server = \"http://{plain}\"  [host.\"http://{plain}\"] capabilities = [\"pull\", \"resolve\"]");
        text.AppendLine($"  ferry:      --plain-http");
        return text.ToString();
    }

    private static string HostText(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();
}
