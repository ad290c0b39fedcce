using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Inspecting;
using Ferry.Reading;
using Ferry.Signing;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry verify</c>: checks every blob's digest and size and that every reference resolves.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var archive = new Argument<string>("archive") { Description = "Any archive Ferry reads: tar, tar.gz, tar.zst (detected by content) or a layout directory; - reads stdin" };
        var key = SignatureOptions.PublicKey("Also check signatures, offline, with this public key (cosign.pub, PEM; ECDSA or RSA): the bundle's own signature first, which vouches for every image; else each image's cosign signature");
        var identity = SignatureOptions.Identity();
        var json = new Option<bool>("--json") { Description = "The result as one JSON object on stdout (valid, images, blobs, problems, signatures); the exit code is the same" };
        var command = new Command("verify", """
            Check an archive: every blob's digest and size, every reference resolvable.

            It reads with the reader load uses. With --key, every image must also be vouched for by a signature by
            that key — the bundle's (ferry save --sign-key, ferry sign) or its own cosign signature — checked without
            a network. Exit 0 when sound, 1 otherwise.

            Examples:
              ferry verify bundle.tar.zst
              ferry verify bundle.tar --key cosign.pub
              ferry verify - < bundle.tar.zst
              ferry verify bundle.tar --json | jq .valid
            """)
        {
            archive, key, identity, json,
        };
        var reading = new ArchiveReadingOptions();
        reading.AddTo(command);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var path = parseResult.GetValue(archive)!;
                var policy = SignatureOptions.Policy(parseResult, key, identity);
                using var publicKey = policy?.Key;
                var result = path == "-"
                    ? await ArchiveVerifier.VerifyAsync(StdinArchive.Open(), "stdin", policy, reading.Limits(parseResult), cancellationToken).ConfigureAwait(false)
                    : await ArchiveVerifier.VerifyAsync(path, policy, reading.Limits(parseResult), cancellationToken).ConfigureAwait(false);
                if (parseResult.GetValue(json))
                {
                    VerifyView.WriteJson(path, result);
                    return result.IsValid ? ExitCodes.Success : ExitCodes.Failure;
                }

                foreach (var problem in result.Problems)
                {
                    Console.Error.WriteLine($"ferry: {path}: {TerminalText.Escape(ErrorPresenter.InFlags(problem))}");
                }

                if (policy is null)
                {
                    foreach (var image in result.Images)
                    {
                        Console.Out.WriteLine($"{TerminalText.Escape(image.Name)}\t{image.Digest}");
                    }
                }
                else
                {
                    foreach (var check in result.Signatures)
                    {
                        Console.Out.WriteLine($"{TerminalText.Escape(check.Image)}\t{check.Digest}\t{(check.Verified ? "verified" : "NOT VERIFIED")}: {TerminalText.Escape(ErrorPresenter.InFlags(check.Detail))}");
                    }
                }

                if (!result.IsValid)
                {
                    Console.Error.WriteLine($"ferry: {path}: NOT valid ({result.Problems.Count} problem(s))");
                    return ExitCodes.Failure;
                }

                var signed = result.BundleSignature switch
                {
                    BundleSignatureState.Valid => $"; the bundle's signature verifies with {policy!.Key.Path}",
                    BundleSignatureState.Absent => $"; every image signed by {policy!.Key.Path}",
                    _ => string.Empty,
                };
                Console.Error.WriteLine($"ferry: {path}: ok — {result.Images.Count} image(s), {result.Blobs} blobs, {Units.Bytes(result.BlobBytes)} verified (compression: {result.Compression}){(result.Artifacts > 0 ? $", {result.Artifacts} signature(s)/attestation(s)/SBOM(s) carried" : string.Empty)}{(result.Omitted > 0 ? $"; partial: {result.Omitted} layer(s) left out on purpose" : string.Empty)}{NotCarried(result)}{signed}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false, OutputMode.Text);
            }
        });
        return command;
    }

    /// <summary>Index entries listed but not carried (docker save 25+), said as the platforms they name.</summary>
    private static string NotCarried(VerifyResult result) =>
        result.NotCarried.Count == 0
            ? string.Empty
            : $"; {result.NotCarried.Count} index entr{(result.NotCarried.Count == 1 ? "y" : "ies")} listed but not carried ({string.Join(", ", result.NotCarried.Select(d => d.Platform?.ToString() ?? d.Digest.Short).Distinct().Take(5))}{(result.NotCarried.Count > 5 ? ", …" : string.Empty)}), as docker save 25+ writes; load takes what is there";
}
