namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// A docker-credential-SUFFIX script in a temp directory (put first on PATH for the ferry process): keeps
/// what 'store' gives it in a file, answers 'get' from it (or with the not-found message), and logs its argv.
/// </summary>
internal sealed class FakeCredentialHelper
{
    public FakeCredentialHelper(string directory, string suffix, string? fixedAnswer = null)
    {
        Directory = directory;
        Suffix = suffix;
        var script = fixedAnswer is not null
            ? $"#!/bin/sh\ncat > /dev/null\necho \"argv: $*\" >> \"{ArgvLog}\"\necho '{fixedAnswer}'\n"
            : $$"""
              #!/bin/sh
              input="$(cat)"
              echo "argv: $*" >> "{{ArgvLog}}"
              case "$1" in
                get) if [ -f "{{StoreFile}}" ]; then cat "{{StoreFile}}"; exit 0; fi; echo "credentials not found in native keychain"; exit 1 ;;
                store) printf '%s' "$input" > "{{StoreFile}}" ;;
                erase) rm -f "{{StoreFile}}" ;;
              esac

              """;
        var path = System.IO.Path.Combine(directory, "docker-credential-" + suffix);
        File.WriteAllText(path, script);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public string Directory { get; }

    public string Suffix { get; }

    public string StoreFile => System.IO.Path.Combine(Directory, $"store-{Suffix}.json");

    public string ArgvLog => System.IO.Path.Combine(Directory, $"argv-{Suffix}.log");

    /// <summary>PATH with the helper's directory first.</summary>
    public string SearchPath => Directory + ":" + Environment.GetEnvironmentVariable("PATH");
}
