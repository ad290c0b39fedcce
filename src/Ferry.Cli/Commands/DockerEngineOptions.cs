using System.CommandLine;
using Ferry.Daemon;

namespace Ferry.Cli.Commands;

/// <summary>
/// The options of every command that talks to a Docker Engine, spelled as the docker CLI spells them:
/// <c>-H/--docker-host</c>, <c>--context</c>, <c>--tlsverify</c>, <c>--tlscacert</c>, <c>--tlscert</c>, <c>--tlskey</c>, <c>--machine</c>.
/// </summary>
internal sealed class DockerEngineOptions
{
    public Option<string?> Host { get; } = new("--docker-host", "-H") { Description = "The Docker Engine: unix:///path, tcp://host:port or ssh://[user@]host[:port]" };

    public Option<string?> Context { get; } = new("--context") { Description = "The docker context to use (default: DOCKER_CONTEXT, else config.json's currentContext)" };

    public Option<bool> TlsVerify { get; } = new("--tlsverify") { Description = "TLS to a tcp:// Docker Engine, verifying its certificate" };

    public Option<string?> TlsCa { get; } = new("--tlscacert") { Description = "CA certificate of the Docker Engine (default: DOCKER_CERT_PATH/ca.pem)" };

    public Option<string?> TlsCert { get; } = new("--tlscert") { Description = "Client certificate for the Docker Engine (default: DOCKER_CERT_PATH/cert.pem)" };

    public Option<string?> TlsKey { get; } = new("--tlskey") { Description = "Client key for the Docker Engine (default: DOCKER_CERT_PATH/key.pem)" };

    public Option<string?> Machine { get; } = new("--machine") { Description = "A docker-machine host (certificates from its store)" };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Host, Context, TlsVerify, TlsCa, TlsCert, TlsKey, Machine })
        {
            command.Options.Add(option);
        }
    }

    /// <summary>Whether any option names an Engine (then the command talks to one, even without <c>--daemon</c>).</summary>
    public bool NamesAnEngine(ParseResult parseResult) =>
        parseResult.GetValue(Host) is not null || parseResult.GetValue(Machine) is not null || parseResult.GetValue(Context) is not null;

    /// <summary>The settings, for <see cref="DockerEndpointResolver"/>.</summary>
    public DockerEndpointOptions Endpoint(ParseResult parseResult) => new(
        parseResult.GetValue(Host),
        parseResult.GetValue(TlsVerify),
        parseResult.GetValue(TlsCa),
        parseResult.GetValue(TlsCert),
        parseResult.GetValue(TlsKey),
        parseResult.GetValue(Machine),
        parseResult.GetValue(Context));
}
