using System.CommandLine;
using Ferry.Cli.Input;
using Ferry.Errors;
using Ferry.Signing;

namespace Ferry.Cli.Commands;

/// <summary>The options that name keys and say how signatures are checked, shared by verify, load, save and sign.</summary>
internal static class SignatureOptions
{
    public static Option<string?> PublicKey(string description) => new("--key") { Description = description };

    public static Option<string> Identity() => new Option<string>("--identity")
    {
        Description = "How a signature's signed name must match the image's: exact (default: registry, repository, and tag when signed with one), repository (tag ignored), any (not checked; the signed digest still must match)",
        DefaultValueFactory = _ => "exact",
    }.AcceptingOnly("exact", "repository", "any");

    public static Option<bool> NoReferrers(string description) => new("--no-referrers") { Description = description };

    /// <summary>The policy for <c>--key</c> and <c>--identity</c>; <see langword="null"/> without a key.</summary>
    public static SignaturePolicy? Policy(ParseResult parseResult, Option<string?> key, Option<string> identity)
    {
        if (parseResult.GetValue(key) is not { } path)
        {
            return null;
        }

        var match = parseResult.GetValue(identity) switch
        {
            "repository" => IdentityMatch.Repository,
            "any" => IdentityMatch.Any,
            _ => IdentityMatch.Exact,
        };
        return new SignaturePolicy(VerificationKey.Load(path), match);
    }

    /// <summary>A private key: an encrypted one's password from COSIGN_PASSWORD, else asked on the terminal.</summary>
    public static SigningKey LoadSigningKey(string path) =>
        BundleSignature.LoadKey(path, TerminalPrompt.IsAvailable ? () => TerminalPrompt.ReadSecret($"Password for {path}: ", $"{path} is encrypted") : null);

    private static Option<string> AcceptingOnly(this Option<string> option, params string[] values)
    {
        option.AcceptOnlyFromAmong(values);
        return option;
    }
}
