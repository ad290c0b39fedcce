using System.CommandLine;
using Ferry.Cli.Output;
using Ferry.Signing;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry sign</c>: adds a signature over a saved bundle's index.json.</summary>
internal static class SignCommand
{
    public static Command Create()
    {
        var archive = new Argument<string>("archive") { Description = "A bundle Ferry saved: an uncompressed tar or a layout directory (sign compressed or split bundles when saving, with --sign-key)" };
        var key = new Option<string>("--key") { Description = "The private key (cosign.key, password from COSIGN_PASSWORD or asked; or a PEM private key)", Required = true };
        var command = new Command("sign", """
            Sign a bundle: a signature over its index.json, which pins every digest inside, stored in it as index.json.sig.

            One signature then vouches for the whole bundle, images without signatures of their own included:
            ferry verify --key and ferry load --require-signature --key check it. It is written the way
            cosign sign-blob writes signatures, so cosign verify-blob (or openssl) can check it too.

            Examples:
              ferry sign bundle.tar --key cosign.key
              ferry verify bundle.tar --key cosign.pub
            """)
        {
            archive, key,
        };
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            try
            {
                var path = parseResult.GetValue(archive)!;
                using var signingKey = SignatureOptions.LoadSigningKey(parseResult.GetValue(key)!);
                await BundleSigner.SignAsync(path, signingKey, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"ferry: {path}: signed ({BundleSignature.FileName})");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false, OutputMode.Text);
            }
        });
        return command;
    }
}
