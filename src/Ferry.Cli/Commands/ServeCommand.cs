using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Server;
using Ferry.Serving;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry serve</c>: archives served as a read-only registry.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var archives = new Argument<string[]>("archives") { Arity = ArgumentArity.OneOrMore, Description = "Archives in any format Ferry reads (tar, tar.gz, tar.zst, directory, the first part of a split archive)" };
        var listen = new Option<string>("--listen", "-l") { Description = "Address to listen on, HOST:PORT (0.0.0.0:5443 for every interface)", DefaultValueFactory = _ => "127.0.0.1:5000" };
        var tlsCert = new Option<string?>("--tls-cert") { Description = "PEM certificate (chain) for HTTPS (HTTP/1.1 and HTTP/2); with --tls-key" };
        var tlsKey = new Option<string?>("--tls-key") { Description = "PEM private key of --tls-cert" };
        var tls = new Option<string?>("--tls") { Description = "auto: make a CA and a server certificate for the listen address(es), kept in --tls-dir, and print how clients trust it" };
        tls.AcceptOnlyFromAmong("auto", "off");
        var tlsDir = new Option<string?>("--tls-dir") { Description = "Where --tls auto keeps its CA and certificate (default: ferry-serve-tls/ beside the first archive)" };
        var tlsName = new Option<string[]>("--tls-name") { Description = "Another DNS name or address clients use for this server (--tls auto; repeatable)", AllowMultipleArgumentsPerToken = false };
        var perClient = new Option<int?>("--max-connections-per-client") { Description = "Connections one client address may hold (default: half of --max-connections; no cap without it); more are answered 503 with Retry-After" };
        var rate = new TransferRateOptions(uploads: false);
        var htpasswd = new Option<string?>("--htpasswd") { Description = "Require Basic auth from this htpasswd file (bcrypt entries, as docker-registry's: htpasswd -B)" };
        var maxConnections = new Option<long?>("--max-connections") { Description = "Serve at most this many connections at once" };
        var logFormat = new Option<string>("--log-format") { Description = "Access log on stderr: plain (default), json, or none", DefaultValueFactory = _ => "plain" };
        logFormat.AcceptOnlyFromAmong("plain", "json", "none");
        var debug = new Option<bool>("--debug") { Description = "Print detail" };
        var command = new Command("serve", """
            Serve archives as a read-only registry: docker, podman, skopeo, containerd and ferry pull from it.

            Every named image of the archives is served under its repository and tag, the registry host replaced by this
            server's; blobs are read from the archive at their offsets, nothing is extracted (a compressed archive is
            unpacked once to a temporary spool). Pushes are refused. Ctrl-C stops it after the running requests end.

            Examples:
              ferry serve bundle.tar
              docker pull 127.0.0.1:5000/library/nginx:1.27
              ferry serve bundle.tar --listen 0.0.0.0:5443 --tls auto     # prints how each client trusts its CA
              ferry serve bundle.tar.000 other.tar --listen 0.0.0.0:5443 --tls-cert c.pem --tls-key k.pem
              ferry serve ./bundle-dir --htpasswd users.htpasswd
            """)
        {
            archives, listen, tls, tlsDir, tlsName, tlsCert, tlsKey, htpasswd, maxConnections, perClient, logFormat, debug,
        };
        rate.AddTo(command);
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            try
            {
                var endpoint = RegistryServer.ParseListen(parseResult.GetValue(listen)!);
                var options = new ServeOptions
                {
                    Archives = parseResult.GetValue(archives)!,
                    Listen = parseResult.GetValue(listen)!,
                    TlsCertificate = parseResult.GetValue(tlsCert),
                    TlsKey = parseResult.GetValue(tlsKey),
                    MaxConnectionsPerClient = parseResult.GetValue(perClient) is { } per && per < 1
                        ? throw new Errors.InvalidInputException($"--max-connections-per-client must be at least 1, not {per}")
                        : parseResult.GetValue(perClient),
                    MaxBytesPerSecond = rate.Rate(parseResult),
                    Htpasswd = parseResult.GetValue(htpasswd),
                    MaxConnections = parseResult.GetValue(maxConnections) is { } max && max < 1
                        ? throw new Errors.InvalidInputException($"--max-connections must be at least 1, not {max}")
                        : parseResult.GetValue(maxConnections),
                    LogFormat = parseResult.GetValue(logFormat) switch { "json" => AccessLogFormat.Json, "none" => AccessLogFormat.None, _ => AccessLogFormat.Plain },
                };
                using var store = await BundleStore.OpenAsync(options.Archives, reading.Limits(parseResult), cancellationToken).ConfigureAwait(false);
                foreach (var warning in store.Warnings)
                {
                    Console.Error.WriteLine(EventText.Warning(warning));
                }

                // Certificates only once the bundle opened: a typo in the archive's name makes no CA.
                var certificates = ServeAdvice.Certificates(
                    parseResult.GetValue(tls), parseResult.GetValue(tlsDir), parseResult.GetValue(tlsName) ?? [], options.TlsCertificate is not null || options.TlsKey is not null, endpoint, options.Archives[0]);
                if (certificates is not null)
                {
                    options = options with { TlsCertificate = certificates.Certificate, TlsKey = certificates.Key };
                }

                await RegistryServer.RunAsync(store, options, address =>
                {
                    Console.Error.WriteLine(
                        $"ferry: serving {store.ImageCount} image(s) in {store.Repositories.Count} repositories, {Units.Bytes(store.BlobBytes)} of blobs, from {options.Archives.Count} archive(s) on {address} (Ctrl-C stops)");
                    Console.Error.Write(ServeAdvice.ForClients(address, endpoint, certificates, options.TlsCertificate is not null));
                }, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine("ferry: stopped");
                return ExitCodes.Success;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine("ferry: stopped");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug, OutputMode.Text);
            }
        });
        return command;
    }
}
