using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Errors;
using Ferry.Inspecting;
using Ferry.Reading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry inspect</c>: the images of an archive, or an image in a registry (no layer downloaded), as text or JSON.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var target = new Argument<string>("archive-or-image") { Description = "An archive Ferry reads (tar, tar.gz, tar.zst, directory; - reads stdin), or an image in a registry (REGISTRY/REPOSITORY:TAG, or docker://…)" };
        var json = new Option<bool>("--json") { Description = "Machine-readable output" };
        var platform = new Option<string[]>("--platform") { Description = "For a registry image: only these platform(s), os/arch[/variant] (default: all)" };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var command = new Command("inspect", """
            Show what an archive or a registry image holds.

            For an archive: reference, platforms, manifest digest, size and layers of each image, how many of
            its bytes are its own and how many it shares with other images (a chart on a terminal), and the archive's
            unique content. Or describe an image in a registry without downloading its layers: platforms, digests, layer
            sizes, and its config (created, entrypoint, cmd, env, ports, labels).

            Examples:
              ferry inspect bundle.tar
              ferry inspect bundle.tar --json | jq '.images[].name'
              ferry inspect registry.internal:5000/team/app:1.4
              ferry inspect docker://nginx:1.27 --platform linux/arm64
            """)
        {
            target, json, platform, debug,
        };
        var cache = new CacheOption();
        command.Options.Add(cache.Option);
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        var access = new RegistryAccessOptions();
        access.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            try
            {
                var text = parseResult.GetValue(target)!;
                if (IsArchive(text))
                {
                    var result = text == "-"
                        ? await ArchiveInspector.InspectAsync(StdinArchive.Open(), "stdin", reading.Limits(parseResult), cancellationToken).ConfigureAwait(false)
                        : await ArchiveInspector.InspectAsync(text, reading.Limits(parseResult), cancellationToken).ConfigureAwait(false);
                    if (parseResult.GetValue(json))
                    {
                        ArchiveInspectView.WriteJson(result);
                    }
                    else
                    {
                        ArchiveInspectView.WriteTable(result);
                        if (!Console.IsOutputRedirected)
                        {
                            ArchiveInspectView.WriteChart(result);
                        }
                    }

                    return ExitCodes.Success;
                }

                var reference = ImageReference.Parse(text.StartsWith("docker://", StringComparison.Ordinal) ? text["docker://".Length..] : text);
                var platforms = parseResult.GetValue(platform) ?? [];
                var credentials = new DefaultCredentialProvider(access.Sources(parseResult, access.ExplicitCredential(parseResult, reference.Registry), reference.Registry));
                var logger = new StderrLogger(isDebug ? LogLevel.Debug : LogLevel.Warning);
                var image = await Images.InspectImageAsync(
                    reference.ToString(),
                    platforms.Length == 0 ? PlatformSelection.All : PlatformSelection.Parse(string.Join(',', platforms)),
                    new RegistryAccess(credentials, access.ClientOptions(parseResult) with { Cache = cache.Open(parseResult) }),
                    logger,
                    cancellationToken).ConfigureAwait(false);
                if (parseResult.GetValue(json))
                {
                    RemoteImageView.WriteJson(image);
                }
                else
                {
                    RemoteImageView.WriteText(image);
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

    /// <summary>
    /// An archive: stdin, an existing file or directory, or something written as a path (./x, /x, ~/x, *.tar, *.tar.gz…) —
    /// a mistyped file name says it does not exist instead of going to Docker Hub.
    /// </summary>
    internal static bool IsArchive(string text) =>
        text == "-" || File.Exists(text) || Directory.Exists(text) ||
        (!text.StartsWith("docker://", StringComparison.Ordinal) && (text.StartsWith('~') || Transfer.ImageLocation.LooksLikePath(text)));
}
