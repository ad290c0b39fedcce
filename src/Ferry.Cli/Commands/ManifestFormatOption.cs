using System.CommandLine;
using Ferry.Oci;

namespace Ferry.Cli.Commands;

/// <summary>
/// <c>--manifest-format oci|docker</c> on every command that writes: rewrites manifests and indexes to one family of
/// media types (layers and configs untouched). Not <c>--format</c>, which <c>save</c> already spends on tar|dir.
/// </summary>
internal sealed class ManifestFormatOption
{
    public ManifestFormatOption()
    {
        Option.AcceptOnlyFromAmong("oci", "docker");
    }

    public Option<string?> Option { get; } = new("--manifest-format") { Description = "Rewrite manifests to oci or docker media types (layers and configs untouched; manifest digests change and are listed; signatures stay behind). Default: as the source has them" };

    public void AddTo(Command command) => command.Options.Add(Option);

    public ManifestFormat? Value(ParseResult parseResult) => parseResult.GetValue(Option) switch
    {
        "oci" => ManifestFormat.Oci,
        "docker" => ManifestFormat.Docker,
        _ => null,
    };
}
