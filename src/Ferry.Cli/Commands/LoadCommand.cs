using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.Loading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Ferry.Transfer;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry load</c>: pushes archives into a registry with digests unchanged.</summary>
internal static class LoadCommand
{
    public static Command Create()
    {
        var options = new LoadOptions();
        var command = new Command("load", """
            Push the images of archives into a registry (or a Docker Engine), every digest unchanged.

            Every manifest's bytes are kept. Each blob is decided
            once for the whole run: skipped when the target has it, mounted from another repository of the target when
            this run (or the source) put it there, else uploaded once, streaming from the archive. Archives without
            registry manifests (docker save, skopeo/podman docker-archive) get manifests built from their layers (layers
            kept as they are in the archive). Signatures, attestations and SBOMs the archive carries go after their image,
            under cosign's tag or as referrers (with the fallback tag where the registry has no referrers API).

            Examples:
              ferry load bundle.tar --to registry.internal:5000
              ferry load bundle.tar.gz part2.tar --to registry.internal:5000/mirror -j 8 --failed load-failed.txt
              ferry load app.tar --as registry.internal:5000/team/app:2.0
              ferry load bundle.tar --to registry.internal:5000 --image docker.io/library/nginx:1.27 --platform linux/arm64
              gunzip < bundle.tar.gz | ferry load - --to registry.internal:5000
              ferry load bundle.tar --to registry.internal:5000 --require-signature --key cosign.pub
              ferry load bundle.tar --daemon
              ferry load bundle.tar --to registry.internal:5000 --images-from load-failed.txt   # retry what failed
            """);
        options.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(options.Debug);
            var mode = new OutputMode(parseResult.GetValue(options.Progress) == "json", parseResult.GetValue(options.Quiet));
            try
            {
                return await RunAsync(parseResult, options, mode, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug, mode);
            }
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parseResult, LoadOptions options, OutputMode mode, CancellationToken cancellationToken)
    {
        string[] paths = [.. parseResult.GetValue(options.Archives) ?? [], .. parseResult.GetValue(options.Input) ?? []];
        if (paths.Length == 0)
        {
            throw new InvalidInputException("no archive given: ferry load ARCHIVE... (or -i ARCHIVE, as docker load takes it; - reads stdin)");
        }

        if (paths.Count(p => p == "-") > 1)
        {
            throw new InvalidInputException("- (stdin) can be read once only");
        }

        if (parseResult.GetValue(options.RequireSignature) != (parseResult.GetValue(options.Key) is not null))
        {
            throw new InvalidInputException(parseResult.GetValue(options.RequireSignature) ? "--require-signature needs --key PUBLIC-KEY (cosign.pub)" : "--key is for --require-signature; say --require-signature to refuse unsigned images");
        }

        var intoEngine = parseResult.GetValue(options.Daemon) || options.Engine.NamesAnEngine(parseResult);
        if (intoEngine)
        {
            FlagRules.RefuseGiven(
                parseResult,
                "for loading into a registry; a Docker Engine takes one load stream through its own socket (drop it, or load --to a registry)",
                options.To, options.MountFrom, options.Jobs, options.Force, options.NoReferrers, options.Format.Option, options.Rate.LimitRate, options.Rate.UploadChunkSize);
        }

        var target = parseResult.GetValue(options.To);
        var name = parseResult.GetValue(options.As);
        if (!intoEngine && target is null && name is null)
        {
            throw new InvalidInputException("say where to load: --to REGISTRY[/PREFIX], --as REGISTRY/REPOSITORY:TAG, or --daemon");
        }

        if (target is not null && name is not null)
        {
            throw new InvalidInputException("--to and --as are exclusive: --as names the one image's full target");
        }

        var policy = SignatureOptions.Policy(parseResult, options.Key, options.Identity);
        using var publicKey = policy?.Key;
        var request = new LoadRequest
        {
            Archives = paths,
            Target = target,
            As = name,
            Images = Selection(parseResult.GetValue(options.Image) ?? [], parseResult.GetValue(options.ImagesFrom)),
            Platforms = options.Platforms.Selection(parseResult),
            ManifestFormat = options.Format.Value(parseResult),
            Jobs = SaveCommand.Range(parseResult.GetValue(options.Jobs), 1, 20, "--jobs"),
            MountFrom = parseResult.GetValue(options.MountFrom),
            Stdin = paths.Contains("-") ? StdinArchive.Open() : null,
            ContinueOnError = true,
            Force = parseResult.GetValue(options.Force),
            Referrers = !parseResult.GetValue(options.NoReferrers),
            RequireSignature = policy,
            Limits = options.Reading.Limits(parseResult),
        };
        string Retry(string where) => $"retry: ferry load {string.Join(' ', paths.Select(Quote))} {where} --images-from {Quote(parseResult.GetValue(options.Failed)!)} (and the other flags you used)";
        if (intoEngine)
        {
            return await LoadIntoDaemonAsync(request, options.Engine.Endpoint(parseResult), parseResult.GetValue(options.Failed)!, Retry("--daemon"), mode, cancellationToken).ConfigureAwait(false);
        }

        var targetRegistry = target is not null ? RegistryTarget.Parse(target).Registry : ImageReference.Parse(name!).Registry;
        var logger = new StderrLogger(parseResult.GetValue(options.Debug) ? LogLevel.Debug : mode.Quiet ? LogLevel.Error : LogLevel.Warning);
        var credentials = new DefaultCredentialProvider(options.Access.Sources(parseResult, options.Access.ExplicitCredential(parseResult, targetRegistry), targetRegistry));
        var bytesLines = new ByteLines(mode);
        var access = new RegistryAccess(credentials, options.Rate.ApplyTo(options.Access.ClientOptions(parseResult), parseResult));
        var result = await Images.LoadAsync(request, new InOrderProgress<LoadEvent>(e => Report(e, mode, bytesLines)), access, logger, cancellationToken).ConfigureAwait(false);
        EventText.Converted(result.Converted, mode);
        var failedWhere = result.Failed.Count > 0
            ? await FailedList.WriteAsync(parseResult.GetValue(options.Failed)!, result.Failed.Select(f => f.Selector), mode, cancellationToken, $"{result.Failed.Count} image(s) failed to load", Retry(target is not null ? $"--to {Quote(target)}" : $"--as {Quote(name!)}")).ConfigureAwait(false)
            : string.Empty;
        return RunOutcome.Report("loaded", result.Images.Count, result.Failed.Count, result.Images.Sum(i => i.UploadedBytes), target ?? name!, failedWhere, mode, result.Unchanged.Count);
    }

    /// <summary>The images selected with <c>--image</c> and <c>--images-from</c>.</summary>
    private static string[] Selection(string[] images, string? listFile)
    {
        if (listFile is null)
        {
            return images;
        }

        if (!File.Exists(listFile))
        {
            throw new InvalidInputException($"--images-from {listFile} does not exist");
        }

        var listed = ImageList.ParseFile(listFile).Select(e => e.Line.Trim()).ToList();
        return listed.Count == 0 && images.Length == 0
            ? throw new InvalidInputException($"--images-from {listFile} lists no image")
            : [.. images, .. listed];
    }

    /// <summary>A word a POSIX shell reads back as it is.</summary>
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:@=+,".Contains(c)) ? word : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task<int> LoadIntoDaemonAsync(LoadRequest request, DockerEndpointOptions engine, string failedFile, string retry, OutputMode mode, CancellationToken cancellationToken)
    {
        var endpoint = DockerEndpointResolver.Resolve(engine);
        var result = await Images.LoadIntoDaemonAsync(request, endpoint, new InOrderProgress<string>(line =>
        {
            if (mode.TalksInText)
            {
                Console.Error.WriteLine($"ferry: daemon: {TerminalText.Escape(line)}");
            }
        }), cancellationToken).ConfigureAwait(false);
        foreach (var failure in result.Failed)
        {
            ErrorPresenter.WriteError($"{failure.Source}: {failure.Message}", mode);
        }

        if (result.Failed.Count > 0)
        {
            await FailedList.WriteAsync(failedFile, result.Failed.Select(f => f.Selector), mode, cancellationToken, $"{result.Failed.Count} image(s) failed to load", retry).ConfigureAwait(false);
        }

        if (result.Loaded.Count == 0)
        {
            ErrorPresenter.WriteError("nothing loaded into the Docker daemon", mode);
        }

        return RunOutcome.ExitCode(result.Loaded.Count, result.Failed.Count);
    }

    private static void Report(LoadEvent loadEvent, OutputMode mode, ByteLines bytesLines)
    {
        switch (loadEvent)
        {
            case LoadBytesEvent e:
                bytesLines.Add(e.Bytes);
                break;
            case ImageLoadedEvent { Image: var image }:
                RunOutcome.Pushed("image-loaded", image, mode);
                break;
            case ImageAlreadyLoadedEvent { Image: var same }:
                RunOutcome.Unchanged(same, mode);
                break;
            case ImageLoadFailedEvent { Failure: var failure } when mode.Json:
                JsonLines.Write("image-failed", w =>
                {
                    w.WriteString("image", failure.Source);
                    w.WriteString("archive", failure.Archive);
                    w.WriteString("error", failure.Message);
                    w.WriteString("kind", JsonLines.Name(failure.Kind));
                });
                break;
            case ImageLoadFailedEvent { Failure: var failure }:
                ErrorPresenter.WriteError($"{failure.Source}: {failure.Message}", mode);
                break;
        }
    }

}
