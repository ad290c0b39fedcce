using System.CommandLine;
using System.Diagnostics;
using Ferry.Cli.Output;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry save</c>: binds options into a <see cref="SaveRequest"/> and calls <see cref="ImageSaver"/>.</summary>
internal static class SaveCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Arity = ArgumentArity.ZeroOrMore, Description = "Image references: name[:tag][@digest]" };
        var output = new Option<string?>("--output", "-o") { Description = "Archive path ('-' for stdout). Default: stdout when it is not a terminal, else ./<repo>-<tag>.tar" };
        var platform = new Option<string[]>("--platform") { Description = "Platform(s) to save, os/arch[/variant], repeatable or comma-separated (default: the host's)", AllowMultipleArgumentsPerToken = false };
        var arch = new Option<string?>("--arch", "-a") { Description = "Architectures, comma-separated: shorthand for --platform linux/ARCH" };
        var allPlatforms = new Option<bool>("--all-platforms") { Description = "Save every platform and keep the registry's index byte-for-byte" };
        var plainHttp = new Option<bool>("--plain-http") { Description = "Talk plain HTTP to the registry (loopback registries fall back to HTTP by themselves)" };
        var format = new Option<string>("--format") { Description = "tar (default) or dir (the same layout as a directory)", DefaultValueFactory = _ => "tar" };
        format.AcceptOnlyFromAmong("tar", "dir");
        var parallel = new Option<int>("--max-concurrent-downloads") { Description = "Blobs downloaded at once (1-32)", DefaultValueFactory = _ => 8 };
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only" };

        var command = new Command("save", "Pull images from registries, without Docker, into one archive that docker load, podman load and skopeo accept.\n\nExample:\n  ferry save -o app.tar registry.example.com:5000/team/app:1.4 nginx:1.27")
        {
            images, output, platform, arch, allPlatforms, plainHttp, format, parallel, debug, quiet,
        };

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            try
            {
                var selection = BuildSelection(parseResult.GetValue(platform) ?? [], parseResult.GetValue(arch), parseResult.GetValue(allPlatforms));
                var concurrency = parseResult.GetValue(parallel);
                if (concurrency is < 1 or > 32)
                {
                    throw new InvalidInputException($"--max-concurrent-downloads must be between 1 and 32, not {concurrency}");
                }

                return await RunAsync(
                    parseResult.GetValue(images) ?? [],
                    parseResult.GetValue(output),
                    selection,
                    parseResult.GetValue(format) == "dir" ? ArchiveFormat.Directory : ArchiveFormat.Tar,
                    parseResult.GetValue(plainHttp),
                    concurrency,
                    isDebug,
                    parseResult.GetValue(quiet),
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug);
            }
        });
        return command;
    }

    private static PlatformSelection BuildSelection(string[] platforms, string? arch, bool all)
    {
        var list = platforms.SelectMany(p => p.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Select(Platform.Parse).ToList();
        if (!string.IsNullOrWhiteSpace(arch))
        {
            list.AddRange(arch.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(a => Platform.Parse("linux/" + a)));
        }

        if (all && list.Count > 0)
        {
            throw new InvalidInputException("--all-platforms cannot be combined with --platform or --arch");
        }

        return all ? PlatformSelection.All : PlatformSelection.Of(list);
    }

    private static async Task<int> RunAsync(string[] images, string? output, PlatformSelection selection, ArchiveFormat format, bool plainHttp, int concurrency, bool debug, bool quiet, CancellationToken cancellationToken)
    {
        if (images.Length == 0)
        {
            throw new InvalidInputException("no image given (see 'ferry save --help')");
        }

        var references = images.Select(ImageReference.Parse).ToList();
        Stream? stream = null;
        if (output == "-" || (output is null && Console.IsOutputRedirected))
        {
            if (format == ArchiveFormat.Directory)
            {
                throw new InvalidInputException("--format dir needs -o DIRECTORY");
            }

            stream = Console.OpenStandardOutput();
        }
        else if (output is null)
        {
            if (references.Count > 1)
            {
                throw new InvalidInputException("several images and stdout is a terminal: name the archive with -o FILE");
            }

            output = DefaultOutputName(references[0], format);
        }

        var logger = new StderrLogger(debug ? LogLevel.Debug : quiet ? LogLevel.Error : LogLevel.Warning);
        using var registry = new RegistryClient(new DockerConfigCredentialProvider(), new RegistryClientOptions { PlainHttp = plainHttp }, logger);
        var saver = new ImageSaver(registry, logger);
        var clock = Stopwatch.StartNew();
        var result = await saver.SaveAsync(
            new SaveRequest { Images = images, Output = output, OutputStream = stream, Format = format, Platforms = selection, MaxConcurrentDownloads = concurrency },
            new SaveProgressPrinter(quiet),
            cancellationToken).ConfigureAwait(false);

        if (!quiet)
        {
            var where = result.Output ?? "stdout";
            var seconds = clock.Elapsed.TotalSeconds;
            Console.Error.WriteLine($"saved {result.Images.Count} image(s), {Units.Bytes(result.ArchiveBytes)}, to {where} in {seconds:F1} s");
        }

        return ExitCodes.Success;
    }

    /// <summary><c>nginx:1.27</c> → <c>library-nginx-1.27.tar</c>.</summary>
    internal static string DefaultOutputName(ImageReference reference, ArchiveFormat format)
    {
        var version = reference.Tag ?? reference.Digest!.Value.Hex[..12];
        var name = $"{reference.Repository.Replace('/', '-')}-{version}";
        return format == ArchiveFormat.Directory ? name : name + ".tar";
    }
}
