using System.CommandLine;

namespace Ferry.Cli.Commands;

/// <summary>The options of <c>ferry copy</c>: its own, and the shared groups it takes (platforms, registry access for the source and the destination, Engine, rates, archive limits).</summary>
internal sealed class CopyOptions
{
    public Argument<string[]> Images { get; } = new("images") { Arity = ArgumentArity.ZeroOrMore, Description = "SOURCE... DESTINATION in transport syntax (docker://REF, docker-daemon:REF, docker-archive:PATH[:REF], oci-archive:PATH[:REF], oci:DIR[:REF], ferry-archive:PATH or a path); with --to or --as, only sources (a bare name is a registry image). Without images and -f, the list is read from stdin." };

    public Option<string?> File { get; } = new("--file", "-f") { Description = "Image list: one reference per line (blank lines and lines starting with # or // are ignored; - reads stdin, typed at a prompt on a terminal), or a bundle file (.yaml/.yml: skopeo sync's format plus Ferry's keys, see docs/bundle-file.md)" };

    public Option<bool> DryRun { get; } = new("--dry-run") { Description = "Print the images the run would copy, each with the digest its tag points at now (after -f lists and tag filters are expanded), and stop: nothing is copied" };

    public Option<string?> To { get; } = new("--to") { Description = "Target registry host[:port], optionally with a path prefix (registry:5000/mirror): every image keeps its repository and tag under it" };

    public Option<string?> As { get; } = new("--as") { Description = "Copy the one image under this full registry name (registry:5000/team/app:2.0)" };

    public Option<int> Jobs { get; } = new("--jobs", "-j") { Description = "Images processed concurrently (1-20)", DefaultValueFactory = _ => 4 };

    public Option<int> Transfers { get; } = new("--max-concurrent-transfers") { Description = "Blobs moving at once, all images together (1-32)", DefaultValueFactory = _ => 8 };

    public Option<string?> SourceRegistry { get; } = new("--source-registry", "-s") { Description = "Pull every registry image from this registry instead; the target keeps the names as written" };

    public Option<string> Failed { get; } = new("--failed") { Description = "Where the list lines that failed are written (only when something failed)", DefaultValueFactory = _ => "copy-failed.txt" };

    public Option<bool> Force { get; } = new("--force") { Description = "Copy every image, even one the destination already has at the source's digest (by default it is skipped after one lookup: a registry's tag, an Engine's image ID)" };

    public Option<string?> Shard { get; } = new("--shard") { Description = "Copy only this part of the list, INDEX/COUNT (e.g. 3/16), as save --shard picks it" };

    public OutputOptions Output { get; } = new();

    public Option<string> Progress => Output.Progress;

    public Option<bool> Debug => Output.Debug;

    public Option<bool> Quiet => Output.Quiet;

    public Option<bool> NoReferrers { get; } = SignatureOptions.NoReferrers("Copy the images only, without their signatures, attestations and SBOMs");

    public PlatformOptions Platforms { get; } = new("copy", "the host's from a registry, what is there from an archive or Engine, the Engine's own into an Engine");

    public ManifestFormatOption Format { get; } = new();

    public CacheOption Cache { get; } = new();

    public RegistryAccessOptions Access { get; } = new();

    public DestinationAccessOptions Destination { get; } = new();

    public TransferRateOptions Rate { get; } = new(uploads: true);

    public DockerEngineOptions Engine { get; } = new();

    public ArchiveReadingOptions Reading { get; } = new();

    public TagSelectionOptions Tags { get; } = new();

    public void AddTo(Command command)
    {
        command.Arguments.Add(Images);
        foreach (var option in new Option[] { File, To, As, Jobs, Transfers, SourceRegistry, Failed, Shard, Force, DryRun, Progress, Debug, Quiet, NoReferrers })
        {
            command.Options.Add(option);
        }

        Platforms.AddTo(command);
        Format.AddTo(command);
        command.Options.Add(Cache.Option);
        Access.AddTo(command);
        Destination.AddTo(command);
        Rate.AddTo(command);
        Engine.AddTo(command);
        Reading.AddTo(command);
        Tags.AddTo(command);
    }
}
