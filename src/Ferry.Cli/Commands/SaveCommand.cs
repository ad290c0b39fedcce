using System.CommandLine;
using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Cli.Output;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry save</c>: binds options into <see cref="SaveOptions"/> and runs <see cref="SaveRunner"/>.</summary>
internal static class SaveCommand
{
    public static Command Create()
    {
        var images = new Argument<string[]>("images") { Arity = ArgumentArity.ZeroOrMore, Description = "Image references: name[:tag][@digest]. Without images and -f, the list is read from stdin." };
        var file = new Option<string?>("--file", "-f") { Description = "Image list: one reference per line (blank lines and lines starting with # or // are ignored; - reads stdin, typed at a prompt on a terminal), or a bundle file (.yaml/.yml: skopeo sync's format plus Ferry's keys, see docs/bundle-file.md)" };
        var output = new Option<string?>("--output", "-o", "--destination", "-d") { Description = "Archive path ('-' for stdout). Default: stdout when it is not a terminal, else ./<repo>-<tag>.tar" };
        var platforms = new PlatformOptions("save", "the host's from a registry; with --daemon, the one the Engine holds");
        var format = new Option<string>("--format") { Description = "tar (default) or dir (the same layout as a directory)", DefaultValueFactory = _ => "tar" };
        format.AcceptOnlyFromAmong("tar", "dir");
        var compress = new Option<string>("--compress", "-c") { Description = "Outer compression: none, gzip, zstd, or dir (a plain directory); default: what -o's name says (.tar.gz/.tgz gzip, .tar.zst zstd), else none", DefaultValueFactory = _ => "none" };
        compress.AcceptOnlyFromAmong("none", "gzip", "zstd", "dir");
        var jobs = new Option<int>("--jobs", "-j") { Description = "Images processed concurrently (1-20)", DefaultValueFactory = _ => 4 };
        var downloads = new Option<int>("--max-concurrent-downloads") { Description = "Blobs downloaded at once, all images together (1-32)", DefaultValueFactory = _ => 8 };
        var source = new Option<string?>("--source-registry", "-s") { Description = "Pull every image from this registry instead; the archive keeps the names as written" };
        var failed = new Option<string>("--failed") { Description = "Where the list lines that failed are written (only when something failed)", DefaultValueFactory = _ => "save-failed.txt" };
        var progress = new Option<string>("--progress") { Description = "plain (default) or json (one JSON object per event on stderr)", DefaultValueFactory = _ => "plain" };
        progress.AcceptOnlyFromAmong("plain", "json");
        var debug = new Option<bool>("--debug") { Description = "Print HTTP-level detail (never secrets)" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print errors only" };
        var daemon = new Option<bool>("--daemon") { Description = "Save from a Docker Engine instead of registries (DOCKER_HOST, the docker context, or the default socket)" };
        var addFile = new Option<string[]>("--add-file") { Description = "Carry a plain file (an ISO, a binary, a chart .tgz, a values file) as an OCI artifact laid out as oras push does, PATH[:NAME:TAG] (repeatable; default name files/<file name>:latest); ferry extract writes it back" };
        var fileType = new Option<string?>("--file-type") { Description = "The media type of the --add-file files (default: by extension, else oras' application/vnd.oci.image.layer.v1.tar)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the images the run would save, each with the digest its tag points at now (after -f lists and tag filters are expanded), and stop: no layer is downloaded" };
        var force = new Option<bool>("--force") { Description = "Rewrite the output even when it already holds these images at the same digests" };
        var shard = new Option<string?>("--shard") { Description = "Save only this part of the list, INDEX/COUNT (e.g. 3/16): a stable hash of each image picks its part, so N machines each save one and 'ferry merge' joins them" };
        var splitSize = new Option<string?>("--split-size") { Description = "Split the archive into parts OUTPUT.000, .001, … of at most this size (4GiB, 700MiB, 4.7GB): byte ranges of the one archive, which every ferry command reads from its first part and cat restores" };
        var checksums = new Option<bool>("--checksums") { Description = "Also write OUTPUT.sha256 (sha256sum -c format) once the archive is complete" };
        var cache = new CacheOption();
        var noResume = new Option<bool>("--no-resume") { Description = "Start from nothing even if an interrupted save of this output left blobs to continue from, and keep nothing if this one fails" };
        var noReferrers = SignatureOptions.NoReferrers("Leave out each image's signatures, attestations and SBOMs (by default they are found through the referrers API, its fallback tag and cosign's tags, and saved with the image)");
        var signKey = new Option<string?>("--sign-key") { Description = "Sign the bundle with this private key (cosign.key, password from COSIGN_PASSWORD or asked; or a PEM key): index.json.sig in the archive, checked by ferry verify --key" };
        var include = new Option<string[]>("--image", "-i") { Description = "An image to save (repeatable; the same as a positional image)" };
        var exclude = new Option<string[]>("--exclude", "-e") { Description = "Leave out the layers of this image (repeatable): a partial (delta) archive" };
        var excludeArchive = new Option<string[]>("--exclude-archive") { Description = "Leave out the layers of every image in this archive (repeatable; any format Ferry reads)" };
        var compressLayers = new Option<string>("--compress-layers") { Description = "With --daemon: none (default, layers as the daemon gives them) or gzip (compressed on all cores; needs -o FILE, uncompressed tar)", DefaultValueFactory = _ => "none" };
        compressLayers.AcceptOnlyFromAmong("none", "gzip");

        var command = new Command("save", """
            Pull images from registries, without Docker, into one archive that docker load, podman load and skopeo accept.

            Examples:
              ferry save -o app.tar registry.example.com:5000/team/app:1.4 nginx:1.27
              ferry save -f images.txt -o bundle.tar.gz --compress gzip -j 10 -a amd64,arm64
              echo "$TOKEN" | ferry save -u ci --password-stdin --cert-dir ./certs -o app.tar registry.internal/app:1
              ferry save --daemon -H ssh://deploy@build01 -o app.tar myapp:dev
              ferry save -o delta.tar --exclude myapp:1.3 myapp:1.4
              COSIGN_PASSWORD=… ferry save -f images.txt -o bundle.tar --sign-key cosign.key
            """)
        {
            images, file, output, format, compress, jobs, downloads, source, failed, progress, debug, quiet,
            daemon, compressLayers, include, exclude, excludeArchive, addFile, fileType, force, dryRun, checksums, shard, splitSize, noResume, noReferrers, signKey, cache.Option,
        };

        platforms.AddTo(command);
        var manifestFormat = new ManifestFormatOption();
        manifestFormat.AddTo(command);
        var engine = new DockerEngineOptions();
        engine.AddTo(command);
        var access = new RegistryAccessOptions();
        access.AddTo(command);
        var rate = new TransferRateOptions(uploads: false);
        rate.AddTo(command);
        var tags = new TagSelectionOptions();
        tags.AddTo(command);

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var isDebug = parseResult.GetValue(debug);
            var outputMode = new OutputMode(parseResult.GetValue(progress) == "json", parseResult.GetValue(quiet));
            try
            {
                if (parseResult.GetValue(daemon) || engine.NamesAnEngine(parseResult))
                {
                    FlagRules.RefuseGiven(
                        parseResult,
                        "for saving from registries; a save from a Docker Engine reads one export through the Engine's own socket (drop it, or save from the registry)",
                        source, downloads, noReferrers, cache.Option, access.Username, access.PasswordStdin, access.Password, access.InteractiveLogin, access.AuthFile,
                        tags.AllTags, tags.Regex, tags.Semver, tags.Exclude, tags.Newest);
                }

                var compression = OutputCompression.Choose(parseResult, compress, parseResult.GetValue(output));
                var options = new SaveOptions
                {
                    Images = [.. parseResult.GetValue(images) ?? [], .. parseResult.GetValue(include) ?? []],
                    ListFile = parseResult.GetValue(file),
                    DryRun = parseResult.GetValue(dryRun),
                    Files = [.. (parseResult.GetValue(addFile) ?? []).Select(f => Files.FileArtifact.Parse(f, parseResult.GetValue(fileType)))],
                    Output = parseResult.GetValue(output),
                    Platforms = platforms.Selection(parseResult),
                    Format = parseResult.GetValue(format) == "dir" || compression == "dir" ? ArchiveFormat.Directory : ArchiveFormat.Tar,
                    Compression = compression switch { "gzip" => OuterCompression.Gzip, "zstd" => OuterCompression.Zstd, _ => OuterCompression.None },
                    ClientOptions = rate.ApplyTo(access.ClientOptions(parseResult, Range(parseResult.GetValue(downloads), 1, 32, "--max-concurrent-downloads") + 4), parseResult) with { Cache = cache.Open(parseResult) },
                    CredentialsFor = registry => access.Sources(parseResult, access.ExplicitCredential(parseResult, registry), registry),
                    PasswordFromStdin = access.ReadsStdin(parseResult),
                    Jobs = Range(parseResult.GetValue(jobs), 1, 20, "--jobs"),
                    MaxConcurrentDownloads = Range(parseResult.GetValue(downloads), 1, 32, "--max-concurrent-downloads"),
                    SourceRegistry = parseResult.GetValue(source),
                    FailedFile = parseResult.GetValue(failed)!,
                    Debug = isDebug,
                    Quiet = parseResult.GetValue(quiet),
                    Progress = parseResult.GetValue(progress)!,
                    Daemon = parseResult.GetValue(daemon) || engine.NamesAnEngine(parseResult) ? engine.Endpoint(parseResult) : null,
                    CompressLayers = parseResult.GetValue(compressLayers) == "gzip",
                    Exclude = parseResult.GetValue(exclude) ?? [],
                    ExcludeArchives = parseResult.GetValue(excludeArchive) ?? [],
                    Force = parseResult.GetValue(force),
                    Checksums = parseResult.GetValue(checksums),
                    Shard = parseResult.GetValue(shard) is { } part ? Shard.Parse(part) : null,
                    SplitSize = parseResult.GetValue(splitSize) is { } size ? Units.ParseSize(size, "--split-size") : null,
                    NoResume = parseResult.GetValue(noResume),
                    NoReferrers = parseResult.GetValue(noReferrers),
                    SignKey = parseResult.GetValue(signKey),
                    ManifestFormat = manifestFormat.Value(parseResult),
                    Tags = tags.Selection(parseResult),
                };
                return await SaveRunner.RunAsync(options, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, isDebug, outputMode);
            }
        });
        return command;
    }

    internal static int Range(int value, int min, int max, string name) =>
        value >= min && value <= max ? value : throw new InvalidInputException($"{name} must be between {min} and {max}, not {value}");
}
