using Ferry.Archives;
using Ferry.Cli.Output;
using Ferry.Daemon;
using Ferry.Errors;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Auth;
using Ferry.Saving;
using Ferry.Transfer;
using Microsoft.Extensions.Logging;

namespace Ferry.Cli.Commands;

/// <summary>Turns <see cref="SaveOptions"/> into a <see cref="SaveRequest"/>, runs it, and reports the outcome.</summary>
internal static class SaveRunner
{
    public static async Task<int> RunAsync(SaveOptions options, CancellationToken cancellationToken)
    {
        var outputMode = new OutputMode(options.Progress == "json", options.Quiet);
        Func<ImageReference, ImageReference>? rename = null;
        IReadOnlyList<Saving.ImageListEntry>? list;
        List<string> lines;
        if (BundleInput.Read(options.ListFile, options.Images, options.Tags) is { } bundle)
        {
            if (options.Daemon is not null)
            {
                throw new InvalidInputException("a bundle file names registry images; --daemon saves from a Docker Engine (drop one)");
            }

            // The bundle's registries bring their own credentials and TLS; its platforms and signatures apply unless a flag says otherwise.
            var credentialsFor = options.CredentialsFor;
            options = options with
            {
                ClientOptions = Bundles.BundleAccess.Options(bundle, options.ClientOptions),
                CredentialsFor = registry => Bundles.BundleAccess.Credentials(bundle, credentialsFor(registry)),
                Platforms = options.Platforms ?? bundle.PlatformSelection,
                NoReferrers = options.NoReferrers || bundle.CarrySignatures == false,
                Files = [.. options.Files, .. BundleInput.FilesOf(bundle)],
            };
            var expansion = await BundleInput.ExpandAsync(bundle, AccessFor(options, []), outputMode, cancellationToken).ConfigureAwait(false);
            (list, lines) = (null, [.. expansion.Images]);
            rename = expansion.Renames.Count > 0 ? expansion.Rename : null;
        }
        else if (options.Images.Count == 0 && options.ListFile is null && options.Files.Count > 0)
        {
            (list, lines) = (null, []); // files only: no image list to read from stdin
        }
        else
        {
            list = ImageListInput.Read(options.Images, options.ListFile, options.PasswordFromStdin);
            lines = list?.Select(e => e.Line).ToList() ?? options.Images.ToList();
        }

        if (options.Files.Count > 0 && options.Shard is not null)
        {
            throw new InvalidInputException("--shard splits the image list; carry plain files in one save of their own (ferry merge joins the parts)");
        }

        if (lines.Count == 0 && options.Files.Count == 0)
        {
            throw new InvalidInputException("no image given (see 'ferry save --help')");
        }

        if (options.Tags.IsActive)
        {
            // Whole repositories: every line is listed once, then each tag is one image of the run (shards split tags).
            lines = await TagLines.ExpandAsync(lines, options.Tags, AccessFor(options, lines), options.SourceRegistry, outputMode, cancellationToken).ConfigureAwait(false);
            list = null;
        }

        if (options.Shard is { } shard)
        {
            (list, lines) = ImageListInput.TakeShard(list, lines, shard, outputMode);
            if (lines.Count == 0)
            {
                if (outputMode.Json)
                {
                    JsonLines.Write("summary", w => w.WriteNumber("images", 0));
                }

                return ExitCodes.Success; // an empty part: nothing to write, and nothing failed
            }
        }

        if (options.DryRun)
        {
            return options.Daemon is null
                ? await DryRun.PrintAsync(lines, options.Files, AccessFor(options, lines), options.SourceRegistry, outputMode, cancellationToken).ConfigureAwait(false)
                : throw new InvalidInputException("--dry-run shows what registries hold; a save from a Docker Engine has nothing to look up first");
        }

        if (options.Daemon is not null && options.ClientOptions.MaxBytesPerSecond is not null)
        {
            throw new InvalidInputException("--limit-rate caps registry transfers; a save from a Docker Engine reads its export through the Engine's own socket");
        }

        var (output, stream) = ChooseOutput(options, lines);
        var mode = options.Progress == "json" ? ProgressMode.Json : options.Quiet ? ProgressMode.Quiet : ProgressMode.Plain;
        Func<int, string> describePosition = position => list is null || position > list.Count ? string.Empty : $"line {list[position - 1].LineNumber}: ";
        using var signKey = options.SignKey is { } keyPath ? SignatureOptions.LoadSigningKey(keyPath) : null;
        var request = BuildRequest(options, lines, output, stream, bulk: list is not null, signKey) with { Rename = rename };
        var result = await SaveWithProgressAsync(options, request, mode, describePosition, cancellationToken).ConfigureAwait(false);
        var failedWhere = result.Failed.Count > 0
            ? await FailedList.WriteAsync(options.FailedFile, result.Failed.Where(f => f.Position <= lines.Count).Select(f => lines[f.Position - 1]), outputMode, cancellationToken).ConfigureAwait(false)
            : string.Empty;
        EventText.Converted(result.Converted, outputMode);
        return Summarize(options, outputMode, result, lines.Count, result.Output ?? (stream is null ? "nothing" : "stdout"), failedWhere);
    }

    /// <summary>How registries are reached: explicit credentials go to the one registry the images (or -s) name.</summary>
    private static RegistryAccess AccessFor(SaveOptions options, IReadOnlyList<string> images) =>
        new(new DefaultCredentialProvider(options.CredentialsFor(RegistryAccessOptions.CredentialRegistry(options.SourceRegistry, images))), options.ClientOptions);

    /// <summary><c> (3 parts: bundle.tar.000 … bundle.tar.002)</c> for a split archive.</summary>
    internal static string PartsText(SaveResult result) =>
        result.Parts.Count == 0 ? string.Empty : $" ({result.Parts.Count} part(s): {result.Parts[0]} … {result.Parts[^1]}; any ferry command reads them from the first, cat joins them)";

    private static SaveRequest BuildRequest(SaveOptions options, List<string> lines, string? output, Stream? stream, bool bulk, Signing.SigningKey? signKey) => new()
    {
        Images = lines,
        Files = options.Files,
        Output = output,
        OutputStream = stream,
        Format = options.Format,
        Compression = options.Compression,
        Platforms = options.Platforms,
        ManifestFormat = options.ManifestFormat,
        Jobs = options.Jobs,
        MaxConcurrentDownloads = options.MaxConcurrentDownloads,
        SourceRegistry = options.SourceRegistry,
        ContinueOnError = bulk,
        Exclude = options.Exclude,
        ExcludeArchives = options.ExcludeArchives,
        Force = options.Force,
        Daemon = options.Daemon is { } endpoint ? DockerEndpointResolver.Resolve(endpoint) : null,
        CompressLayers = options.CompressLayers,
        Checksums = options.Checksums,
        SplitSize = options.SplitSize,
        Resume = !options.NoResume,
        Referrers = !options.NoReferrers,
        SignKey = signKey,
    };

    /// <summary>Runs the save under the live view (a terminal, registry sources) or the line printer.</summary>
    private static async Task<SaveResult> SaveWithProgressAsync(SaveOptions options, SaveRequest request, ProgressMode mode, Func<int, string> describePosition, CancellationToken cancellationToken)
    {
        var printer = new SaveProgressPrinter(mode, options.Debug, describePosition);
        var logger = new StderrLogger(options.Debug ? LogLevel.Debug : options.Quiet ? LogLevel.Error : LogLevel.Warning);

        var access = AccessFor(options, request.Images);

        // The live view draws bars while blobs download; a daemon's export streams in its own order with no download phase to draw.
        var live = mode == ProgressMode.Plain && !options.Debug && LiveProgressView.IsSupported && request.Daemon is null;
        try
        {
            return live
                ? await LiveProgressView.RunAsync(describePosition, view => Images.SaveAsync(request, view, access, logger, cancellationToken)).ConfigureAwait(false)
                : await Images.SaveAsync(request, printer, access, logger, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            printer.Flush();
        }
    }

    /// <summary>The closing lines (or JSON summary) and the exit code.</summary>
    private static int Summarize(SaveOptions options, OutputMode outputMode, SaveResult result, int requested, string where, string failedWhere)
    {
        if (outputMode.Json)
        {
            JsonLines.Write("summary", w =>
            {
                w.WriteNumber("images", result.Images.Count);
                w.WriteNumber("failed", result.Failed.Count);
                w.WriteNumber("archiveBytes", result.ArchiveBytes);
                w.WriteNumber("downloadedBytes", result.DownloadedBytes);
                w.WriteString("output", where);
                w.WriteNumber("parts", result.Parts.Count);
                w.WriteBoolean("upToDate", !result.Executed);
                w.WriteNumber("omittedLayers", result.Omitted.Count);
                if (result.ChecksumFile is { } sums)
                {
                    w.WriteString("checksumFile", sums);
                }
            });
            return result.Executed ? RunOutcome.ExitCode(result.Images.Count, result.Failed.Count) : ExitCodes.Success;
        }

        if (!result.Executed)
        {
            if (!options.Quiet)
            {
                Console.Error.WriteLine($"ferry: {where} is up to date: it holds these {result.Images.Count} image(s) at the same digests; nothing downloaded or written (--force rewrites it)");
            }

            return ExitCodes.Success;
        }

        if (result.Images.Count == 0)
        {
            ErrorPresenter.WriteError($"nothing saved: all {result.Failed.Count} image(s) failed ({failedWhere})", outputMode);
            return ExitCodes.Failure;
        }

        if (result.Failed.Count > 0)
        {
            Console.Error.WriteLine($"ferry: saved {result.Images.Count} of {requested} images ({Units.Bytes(result.ArchiveBytes)}) to {where}; {result.Failed.Count} failed, {failedWhere}{(failedWhere.StartsWith("listed", StringComparison.Ordinal) ? $" (retry with -f {options.FailedFile})" : string.Empty)}");
            return ExitCodes.PartialFailure;
        }

        if (!options.Quiet)
        {
            Console.Error.WriteLine($"ferry: saved {result.Images.Count} image(s), {Units.Bytes(result.ArchiveBytes)}, to {where}{PartsText(result)}");
            if (result.ChecksumFile is { } sums)
            {
                Console.Error.WriteLine($"ferry: checksums in {sums} (check with: sha256sum -c {Path.GetFileName(sums)})");
            }

            if (options.Exclude.Count > 0 || options.ExcludeArchives.Count > 0)
            {
                var full = result.UniqueBytes;
                var left = result.Omitted.Sum(o => o.Size);
                Console.Error.WriteLine($"ferry: partial archive: full size {Units.Bytes(full)}, delta {Units.Bytes(full - left)}, saved {(full == 0 ? 0 : 100.0 * left / full):0.#}% ({result.Omitted.Count} layer(s) left out, listed in ferry-partial.json)");
            }
        }

        return ExitCodes.Success;
    }

    private static (string? Output, Stream? Stream) ChooseOutput(SaveOptions options, List<string> lines)
    {
        if (options.Output == "-" && !Console.IsOutputRedirected)
        {
            throw new InvalidInputException("refusing to write an archive to a terminal: redirect stdout (> file, | ssh …) or name a file with -o");
        }

        if (options.Output == "-" || (options.Output is null && Console.IsOutputRedirected))
        {
            if (options.Format == ArchiveFormat.Directory)
            {
                throw new InvalidInputException("a directory output needs -o DIRECTORY");
            }

            return (null, StandardOutput.OpenForData());
        }

        if (options.Output is not null)
        {
            return (options.Output, null);
        }

        if (lines.Count + options.Files.Count > 1)
        {
            throw new InvalidInputException("several images and stdout is a terminal: name the archive with -o FILE");
        }

        if (lines.Count == 0)
        {
            return (DefaultOutputName(options.Files[0].Name, options.Format), null);
        }

        return (DefaultOutputName(ImageLocation.RegistryReference(lines[0]), options.Format), null);
    }

    /// <summary><c>nginx:1.27</c> → <c>library-nginx-1.27.tar</c>.</summary>
    internal static string DefaultOutputName(ImageReference reference, ArchiveFormat format)
    {
        var version = reference.Tag ?? reference.Digest!.Value.Hex[..12];
        var name = $"{reference.Repository.Replace('/', '-')}-{version}";
        return format == ArchiveFormat.Directory ? name : name + ".tar";
    }
}
