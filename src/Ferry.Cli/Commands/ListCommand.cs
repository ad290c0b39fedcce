using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry ls</c>: a repository's tags (with their digests), or a registry's repositories.</summary>
internal static class ListCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("repository-or-registry") { Description = "REGISTRY/REPOSITORY lists its tags; REGISTRY alone lists its repositories (where it offers its catalog)" };
        var digests = new Option<bool>("--digests") { Description = "Also print the digest each tag points at (one manifest request per tag)" };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var tags = new TagSelectionOptions();
        var access = new RegistryAccessOptions();
        var command = new Command("ls", """
            List a repository's tags, or a registry's repositories.

            Tags go to stdout one per line (TAB and digest with --digests), in the order the tag options give: versions
            by version, otherwise as the registry lists them. The same tag options select what save and copy take.

            Examples:
              ferry ls registry.internal:5000/team/app
              ferry ls registry.internal:5000/team/app --tag-semver '>=1.2 <2' --digests
              ferry ls registry.internal:5000
            """)
        {
            target, digests, debug,
        };
        tags.AddTo(command);
        access.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            try
            {
                var text = parseResult.GetValue(target)!.Trim().TrimEnd('/');
                if (text.StartsWith("docker://", StringComparison.Ordinal))
                {
                    text = text["docker://".Length..];
                }

                // A registry alone is a host (a dot, a port, or localhost), as docker reads a name's first part; "nginx" is a repository.
                var isRegistry = !text.Contains('/', StringComparison.Ordinal) && References.ImageReference.IsRegistryHost(text);
                var registry = isRegistry ? text : References.ImageReference.Parse(text).Registry;
                var credentials = new DefaultCredentialProvider(access.Sources(parseResult, access.ExplicitCredential(parseResult, registry), registry));
                var registryAccess = new RegistryAccess(credentials, access.ClientOptions(parseResult));
                var logger = new StderrLogger(isDebug ? LogLevel.Debug : LogLevel.Warning);
                if (isRegistry)
                {
                    foreach (var repository in await Images.ListRepositoriesAsync(text, registryAccess, logger, cancellationToken).ConfigureAwait(false))
                    {
                        Console.Out.WriteLine(TerminalText.Escape(repository));
                    }

                    return ExitCodes.Success;
                }

                var wantDigests = parseResult.GetValue(digests);
                foreach (var tag in await Images.ListTagsAsync(text, tags.Selection(parseResult), wantDigests, registryAccess, logger, cancellationToken).ConfigureAwait(false))
                {
                    Console.Out.WriteLine(wantDigests ? $"{TerminalText.Escape(tag.Tag)}\t{tag.Digest?.ToString() ?? "-"}" : TerminalText.Escape(tag.Tag));
                }

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
