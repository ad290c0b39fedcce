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
        var archives = new Argument<string[]>("archives") { Arity = ArgumentArity.OneOrMore, Description = "Archives: Ferry's, docker save, podman save, skopeo docker-archive/oci-archive/oci, crane (tar, tar.gz, tar.zst or directory; detected by content); - reads stdin" };
        var to = new Option<string?>("--to") { Description = "Target registry host[:port], optionally with a path prefix (registry:5000/mirror)" };
        var nameAs = new Option<string?>("--as") { Description = "Push the one selected image under this full name (registry:5000/team/app:2.0); also names an unnamed image" };
        var image = new Option<string[]>("--image", "-i") { Description = "Load only this image of the archives (repeatable): its name, or its digest when unnamed" };
        var imagesFrom = new Option<string?>("--images-from") { Description = "Load only the images listed in this file, one --image per line (# comments; the --failed list of an earlier load)" };
        var platforms = new PlatformOptions("push", "every platform into a registry, a subset getting a new index; into an Engine its own platform, else the image's", shorthands: false);
        var daemon = new Option<bool>("--daemon") { Description = "Load into a Docker Engine instead (-H, --context, DOCKER_HOST, the docker context, or the default socket)" };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Images pushed concurrently (1-20)", DefaultValueFactory = _ => 4 };
        var failed = new Option<string>("--failed") { Description = "Where the images that failed are listed (only when something failed); retry them with --images-from FILE", DefaultValueFactory = _ => "load-failed.txt" };
        var mountFrom = new Option<string?>("--mount-from") { Description = "A repository of the target registry holding the layers a partial archive leaves out" };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only" };
        var progress = new Option<string>("--progress") { Description = "plain (default) or json (one JSON object per event on stderr)", DefaultValueFactory = _ => "plain" };
        progress.AcceptOnlyFromAmong("plain", "json");
        var noReferrers = SignatureOptions.NoReferrers("Push the images only, without the signatures, attestations and SBOMs the archive carries with them");
        var requireSignature = new Option<bool>("--require-signature") { Description = "Refuse, before anything is pushed, every image no signature by --key vouches for (the bundle's signature, or the image's own); the others are pushed and the refused ones listed" };
        var key = SignatureOptions.PublicKey("The public key for --require-signature (cosign.pub, PEM; ECDSA or RSA)");
        var identity = SignatureOptions.Identity();
        var access = new RegistryAccessOptions();
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
            """)
        {
            archives, to, nameAs, image, imagesFrom, daemon, mountFrom, jobs, failed, progress, debug, quiet, noReferrers, requireSignature, key, identity,
        };
        platforms.AddTo(command);
        var format = new ManifestFormatOption();
        format.AddTo(command);
        access.AddTo(command);
        var rate = new TransferRateOptions(uploads: true);
        rate.AddTo(command);
        var engine = new DockerEngineOptions();
        engine.AddTo(command);
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            var isQuiet = parseResult.GetValue(quiet);
            JsonLines.Enabled = parseResult.GetValue(progress) == "json";
            try
            {
                var paths = parseResult.GetValue(archives)!;
                if (paths.Count(p => p == "-") > 1)
                {
                    throw new InvalidInputException("- (stdin) can be read once only");
                }

                var stdin = paths.Contains("-") ? StdinArchive.Open() : null;
                var selected = Selection(parseResult.GetValue(image) ?? [], parseResult.GetValue(imagesFrom));
                string Retry(string where) => $"retry: ferry load {string.Join(' ', paths.Select(Quote))} {where} --images-from {Quote(parseResult.GetValue(failed)!)} (and the other flags you used)";
                if (parseResult.GetValue(requireSignature) != (parseResult.GetValue(key) is not null))
                {
                    throw new InvalidInputException(parseResult.GetValue(requireSignature) ? "--require-signature needs --key PUBLIC-KEY (cosign.pub)" : "--key is for --require-signature; say --require-signature to refuse unsigned images");
                }

                if (parseResult.GetValue(daemon) || engine.NamesAnEngine(parseResult))
                {
                    FlagRules.RefuseGiven(
                        parseResult,
                        "for loading into a registry; a Docker Engine takes one load stream through its own socket (drop it, or load --to a registry)",
                        to, mountFrom, jobs, noReferrers, format.Option, rate.LimitRate, rate.UploadChunkSize);

                    var daemonPolicy = SignatureOptions.Policy(parseResult, key, identity);
                    using var daemonKey = daemonPolicy?.Key;
                    var daemonRequest = new LoadRequest
                    {
                        Limits = reading.Limits(parseResult),
                        Archives = paths,
                        As = parseResult.GetValue(nameAs),
                        Images = selected,
                        Platforms = platforms.Selection(parseResult),
                        Stdin = stdin,
                        RequireSignature = daemonPolicy,
                    };
                    return await LoadIntoDaemonAsync(daemonRequest, engine.Endpoint(parseResult), parseResult.GetValue(failed)!, Retry("--daemon"), isQuiet, cancellationToken).ConfigureAwait(false);
                }

                var target = parseResult.GetValue(to);
                var name = parseResult.GetValue(nameAs);
                if (target is null && name is null)
                {
                    throw new InvalidInputException("say where to load: --to REGISTRY[/PREFIX], --as REGISTRY/REPOSITORY:TAG, or --daemon");
                }

                if (target is not null && name is not null)
                {
                    throw new InvalidInputException("--to and --as are exclusive: --as names the one image's full target");
                }

                var jobCount = SaveCommand.Range(parseResult.GetValue(jobs), 1, 20, "--jobs");
                var policy = SignatureOptions.Policy(parseResult, key, identity);
                using var publicKey = policy?.Key;

                var targetRegistry = target is not null ? RegistryTarget.Parse(target).Registry : ImageReference.Parse(name!).Registry;
                var logger = new StderrLogger(isDebug ? LogLevel.Debug : isQuiet ? LogLevel.Error : LogLevel.Warning);
                var credentials = new DefaultCredentialProvider(access.Sources(parseResult, access.ExplicitCredential(parseResult, targetRegistry), targetRegistry));
                var request = new LoadRequest
                {
                    Limits = reading.Limits(parseResult),
                    Archives = paths,
                    Target = target,
                    As = name,
                    Images = selected,
                    Platforms = platforms.Selection(parseResult),
                    ManifestFormat = format.Value(parseResult),
                    Jobs = jobCount,
                    MountFrom = parseResult.GetValue(mountFrom),
                    Stdin = stdin,
                    ContinueOnError = true,
                    Referrers = !parseResult.GetValue(noReferrers),
                    RequireSignature = policy,
                };
                var bytesLines = new ByteLines(isQuiet);
                var result = await Images.LoadAsync(request, new InOrderProgress<LoadEvent>(e => Report(e, isQuiet, bytesLines)), new RegistryAccess(credentials, rate.ApplyTo(access.ClientOptions(parseResult), parseResult)), logger, cancellationToken).ConfigureAwait(false);
                EventText.Converted(result.Converted, isQuiet);
                var failedFile = parseResult.GetValue(failed)!;
                var failedWhere = result.Failed.Count > 0
                    ? await FailedList.WriteAsync(failedFile, result.Failed.Select(f => f.Selector), cancellationToken, $"{result.Failed.Count} image(s) failed to load", Retry(target is not null ? $"--to {Quote(target)}" : $"--as {Quote(name!)}")).ConfigureAwait(false)
                    : string.Empty;

                return RunOutcome.Report("loaded", result.Images.Count, result.Failed.Count, result.Images.Sum(i => i.UploadedBytes), target ?? name!, failedWhere, isQuiet);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug);
            }
        });
        return command;
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

    private static async Task<int> LoadIntoDaemonAsync(LoadRequest request, DockerEndpointOptions engine, string failedFile, string retry, bool quiet, CancellationToken cancellationToken)
    {
        var endpoint = DockerEndpointResolver.Resolve(engine);
        var result = await Images.LoadIntoDaemonAsync(request, endpoint, new InOrderProgress<string>(line =>
        {
            if (!quiet)
            {
                Console.Error.WriteLine($"ferry: daemon: {TerminalText.Escape(line)}");
            }
        }), cancellationToken).ConfigureAwait(false);
        foreach (var failure in result.Failed)
        {
            ErrorPresenter.WriteError($"{failure.Source}: {failure.Message}");
        }

        if (result.Failed.Count > 0)
        {
            await FailedList.WriteAsync(failedFile, result.Failed.Select(f => f.Selector), cancellationToken, $"{result.Failed.Count} image(s) failed to load", retry).ConfigureAwait(false);
        }

        if (result.Loaded.Count == 0)
        {
            ErrorPresenter.WriteError("nothing loaded into the Docker daemon");
        }

        return RunOutcome.ExitCode(result.Loaded.Count, result.Failed.Count);
    }

    private static void Report(LoadEvent loadEvent, bool quiet, ByteLines bytesLines)
    {
        switch (loadEvent)
        {
            case LoadBytesEvent e:
                bytesLines.Add(e.Bytes);
                break;
            case ImageLoadedEvent { Image: var image }:
                RunOutcome.Pushed("image-loaded", image, quiet);
                break;
            case ImageLoadFailedEvent { Failure: var failure } when JsonLines.Enabled:
                JsonLines.Write("image-failed", w =>
                {
                    w.WriteString("image", failure.Source);
                    w.WriteString("archive", failure.Archive);
                    w.WriteString("error", failure.Message);
                });
                break;
            case ImageLoadFailedEvent { Failure: var failure }:
                ErrorPresenter.WriteError($"{failure.Source}: {failure.Message}");
                break;
        }
    }

}
