using Ferry.Errors;

namespace Ferry.References;

/// <summary>
/// An image platform (<c>os/architecture[/variant]</c>), normalised as containerd's
/// <c>platforms.Normalize</c> does: <c>x86_64</c> → <c>amd64</c>, <c>aarch64</c> → <c>arm64</c>,
/// <c>arm64</c> means <c>arm64/v8</c>, <c>arm</c> means <c>arm/v7</c>, and the OS defaults to <c>linux</c>.
/// </summary>
public sealed record Platform
{
    /// <summary>Creates a platform; the values are normalised.</summary>
    /// <param name="os">The operating system, e.g. <c>linux</c>.</param>
    /// <param name="architecture">The CPU architecture, e.g. <c>amd64</c>.</param>
    /// <param name="variant">The CPU variant, e.g. <c>v8</c>, or <see langword="null"/>.</param>
    public Platform(string os, string architecture, string? variant = null)
    {
        Os = string.IsNullOrEmpty(os) ? "linux" : os.ToLowerInvariant();
        (Architecture, Variant) = NormalizeArchitecture(architecture.ToLowerInvariant(), variant?.ToLowerInvariant());
    }

    /// <summary>The operating system.</summary>
    public string Os { get; }

    /// <summary>The normalised architecture.</summary>
    public string Architecture { get; }

    /// <summary>The normalised variant, or <see langword="null"/> when the architecture has none.</summary>
    public string? Variant { get; }

    /// <summary>The platform of this process, e.g. <c>linux/amd64</c>.</summary>
    public static Platform Host { get; } = new(
        OperatingSystem.IsWindows() ? "windows" : OperatingSystem.IsMacOS() ? "darwin" : "linux",
        System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            var other => other.ToString().ToLowerInvariant(),
        });

    /// <summary>Parses <c>os/arch[/variant]</c>, <c>arch</c> or <c>arch/variant</c> (the OS then being linux).</summary>
    /// <param name="text">The platform text.</param>
    /// <returns>The normalised platform.</returns>
    /// <exception cref="InvalidInputException">The text is not a platform.</exception>
    public static Platform Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Trim().Split('/');
        if (parts.Any(p => p.Length == 0 || !p.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            throw new InvalidInputException($"invalid platform \"{text}\": expected os/arch[/variant]");
        }

        return parts.Length switch
        {
            1 => new Platform("linux", parts[0]),
            2 when IsKnownOs(parts[0]) => new Platform(parts[0], parts[1]),
            2 => new Platform("linux", parts[0], parts[1]),
            3 => new Platform(parts[0], parts[1], parts[2]),
            _ => throw new InvalidInputException($"invalid platform \"{text}\": expected os/arch[/variant]"),
        };
    }

    /// <summary>Whether an image of platform <paramref name="candidate"/> is what this platform selects.</summary>
    /// <param name="candidate">The platform of an image.</param>
    /// <returns><see langword="true"/> when OS, architecture and (normalised) variant agree.</returns>
    public bool Matches(Platform candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return Os == candidate.Os && Architecture == candidate.Architecture &&
               (Variant is null || candidate.Variant is null || Variant == candidate.Variant);
    }

    /// <summary>The platform as <c>os/arch[/variant]</c>.</summary>
    /// <returns>The text form.</returns>
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static bool IsKnownOs(string value) => value.ToLowerInvariant() is
        "linux" or "windows" or "darwin" or "freebsd" or "netbsd" or "openbsd" or "solaris" or "illumos" or "aix" or "plan9" or "android" or "ios" or "js" or "wasip1" or "unknown";

    private static (string Architecture, string? Variant) NormalizeArchitecture(string architecture, string? variant)
    {
        variant = string.IsNullOrEmpty(variant) ? null : variant;
        switch (architecture)
        {
            case "i386":
                return ("386", null);
            case "x86_64" or "x86-64" or "amd64":
                return ("amd64", variant is null or "v1" ? null : variant);
            case "aarch64" or "arm64":
                return ("arm64", variant is null or "8" or "v8" ? "v8" : variant);
            case "armhf":
                return ("arm", "v7");
            case "armel":
                return ("arm", "v6");
            case "arm":
                return ("arm", variant switch
                {
                    null or "7" or "v7" => "v7",
                    "5" or "6" or "8" => "v" + variant,
                    _ => variant,
                });
            default:
                return (architecture, variant);
        }
    }
}
