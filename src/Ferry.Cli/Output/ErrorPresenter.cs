using Ferry.Errors;

namespace Ferry.Cli.Output;

/// <summary>Maps failures to one line on stderr and an exit code. No stack trace unless --debug.</summary>
internal static partial class ErrorPresenter
{
    public static void WriteError(string message, OutputMode mode)
    {
        message = InFlags(message);
        if (mode.Json)
        {
            JsonLines.Write("error", w => w.WriteString("message", message));
            return;
        }

        Console.Error.WriteLine($"ferry: error: {TerminalText.Escape(message)}");
    }

    /// <summary>
    /// The library names the request setting that would fix a failure (<c>MountFrom</c>, <c>Platforms</c>); a person at
    /// the command line reads the flag that sets it instead.
    /// </summary>
    internal static string InFlags(string message) => SettingNames().Replace(message, m => m.Value switch
    {
        "MountFrom" => "--mount-from",
        "Platforms" => "--platform",
        "Images" => "--image",
        "As" => "--as",
        "ExcludeArchives" => "--exclude-archive",
        "Exclude" => "--exclude",
        "CompressLayers" => "--compress-layers gzip",
        "CertDirectory" => "--cert-dir",
        "IdleTimeout" => "--timeout",
        "PlainHttp" => "--plain-http",
        "Insecure" => "--insecure",
        "TlsVerify false" => "--tls-verify=false",
        "CaFile" => "--tlscacert",
        "CertFile" => "--tlscert",
        "KeyFile" => "--tlskey",
        "Machine" => "--machine",
        "Checksums" => "--checksums",
        "Overwrite" => "--force",
        "Format: Directory" => "--format dir",
        "Files" => "--add-file",
        "SignKey" => "--sign-key",
        "Referrers: false" => "--no-referrers",
        "Identity: Any" => "--identity any",
        "Identity: Repository" => "--identity repository",
        _ => m.Value,
    });

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<=[(, ])(Referrers: false|Identity: Any|Identity: Repository|SignKey|MountFrom|Platforms|Images|As|ExcludeArchives|Exclude|CompressLayers|CertDirectory|IdleTimeout|PlainHttp|Insecure|TlsVerify false|CaFile|CertFile|KeyFile|Machine|Checksums|Overwrite|Files|Format: Directory)(?=[),: ])")]
    private static partial System.Text.RegularExpressions.Regex SettingNames();

    public static int Present(Exception exception, bool debug, OutputMode mode)
    {
        switch (exception)
        {
            case OperationCanceledException:
                if (mode.Json)
                {
                    JsonLines.Write("cancelled", _ => { });
                }
                else
                {
                    Console.Error.WriteLine("ferry: cancelled; no half-written output was left (blobs kept to resume from, if any, are said above)");
                }

                return ExitCodes.Cancelled;
            case FerryException ferry:
                WriteError(ferry.Message, mode);
                break;
            case IOException or UnauthorizedAccessException:
                WriteError(exception.Message, mode);
                break;
            default:
                WriteError($"unexpected {exception.GetType().Name}: {exception.Message}", mode);
                break;
        }

        if (debug)
        {
            Console.Error.WriteLine(exception.ToString());
        }

        return ExitCodes.Failure;
    }
}
