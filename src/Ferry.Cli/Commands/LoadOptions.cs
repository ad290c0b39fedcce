using System.CommandLine;

namespace Ferry.Cli.Commands;

/// <summary>The options of <c>ferry load</c>: its own, and the shared groups it takes (platforms, registry access, Engine, rates, archive limits).</summary>
internal sealed class LoadOptions
{
    public Argument<string[]> Archives { get; } = new("archives") { Arity = ArgumentArity.ZeroOrMore, Description = "Archives: Ferry's, docker save, podman save, skopeo docker-archive/oci-archive/oci, crane (tar, tar.gz, tar.zst or directory; detected by content); - reads stdin" };

    public Option<string?> To { get; } = new("--to") { Description = "Target registry host[:port], optionally with a path prefix (registry:5000/mirror)" };

    public Option<string?> As { get; } = new("--as") { Description = "Push the one selected image under this full name (registry:5000/team/app:2.0); also names an unnamed image" };

    public Option<string[]> Input { get; } = new("--input", "-i") { Description = "An archive to load (repeatable; the same as a positional archive, docker load's spelling)" };

    public Option<string[]> Image { get; } = new("--image") { Description = "Load only this image of the archives (repeatable): its name, or its digest when unnamed" };

    public Option<string?> ImagesFrom { get; } = new("--images-from") { Description = "Load only the images listed in this file, one --image per line (# comments; the --failed list of an earlier load)" };

    public Option<bool> Force { get; } = new("--force") { Description = "Push every image, even one whose target tag already points at the archive's digest (by default it is skipped after one HEAD)" };

    public Option<bool> Daemon { get; } = new("--daemon") { Description = "Load into a Docker Engine instead (-H, --context, DOCKER_HOST, the docker context, or the default socket)" };

    public Option<string?> MountFrom { get; } = new("--mount-from") { Description = "A repository of the target registry holding the layers a partial archive leaves out" };

    public Option<int> Jobs { get; } = new("--jobs", "-j") { Description = "Images pushed concurrently (1-20)", DefaultValueFactory = _ => 4 };

    public Option<string> Failed { get; } = new("--failed") { Description = "Where the images that failed are listed (only when something failed); retry them with --images-from FILE", DefaultValueFactory = _ => "load-failed.txt" };

    public OutputOptions Output { get; } = new();

    public Option<string> Progress => Output.Progress;

    public Option<bool> Debug => Output.Debug;

    public Option<bool> Quiet => Output.Quiet;

    public Option<bool> NoReferrers { get; } = SignatureOptions.NoReferrers("Push the images only, without the signatures, attestations and SBOMs the archive carries with them");

    public Option<bool> RequireSignature { get; } = new("--require-signature") { Description = "Refuse, before anything is pushed, every image no signature by --key vouches for (the bundle's signature, or the image's own); the others are pushed and the refused ones listed" };

    public Option<string?> Key { get; } = SignatureOptions.PublicKey("The public key for --require-signature (cosign.pub, PEM; ECDSA or RSA)");

    public Option<string> Identity { get; } = SignatureOptions.Identity();

    public PlatformOptions Platforms { get; } = new("push", "every platform into a registry, a subset getting a new index; into an Engine its own platform, else the image's", shorthands: false);

    public ManifestFormatOption Format { get; } = new();

    public RegistryAccessOptions Access { get; } = new();

    public TransferRateOptions Rate { get; } = new(uploads: true);

    public DockerEngineOptions Engine { get; } = new();

    public ArchiveReadingOptions Reading { get; } = new();

    public void AddTo(Command command)
    {
        command.Arguments.Add(Archives);
        foreach (var option in new Option[] { Input, To, As, Image, ImagesFrom, Daemon, MountFrom, Jobs, Force, Failed, Progress, Debug, Quiet, NoReferrers, RequireSignature, Key, Identity })
        {
            command.Options.Add(option);
        }

        Platforms.AddTo(command);
        Format.AddTo(command);
        Access.AddTo(command);
        Rate.AddTo(command);
        Engine.AddTo(command);
        Reading.AddTo(command);
    }
}
