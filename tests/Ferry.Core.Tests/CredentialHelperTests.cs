using System.Runtime.Versioning;
using System.Text;
using Ferry.Errors;
using Ferry.Registry.Auth;

namespace Ferry.Core.Tests;

/// <summary>
/// The docker-credential-helper protocol against a fake helper script (a real process started through PATH,
/// as Docker starts helpers), and the stores that login/logout write.
/// </summary>
[Collection("PATH")]
[SupportedOSPlatform("linux")]
public sealed class CredentialHelperTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _originalPath = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;

    public CredentialHelperTests()
    {
        // A helper that keeps its store in a file next to itself; "get" prints the secret JSON or the not-found message.
        WriteHelper("fake", """
            #!/bin/sh
            store="$(dirname "$0")/store-$(basename "$0")"
            input="$(cat)"
            echo "argv: $*" >> "$(dirname "$0")/calls"
            case "$1" in
              get)
                if [ -f "$store" ] && grep -q "\"ServerURL\":\"$input\"" "$store"; then cat "$store"; exit 0; fi
                echo "credentials not found in native keychain"; exit 1 ;;
              store) printf '%s' "$input" > "$store" ;;
              erase) if [ -f "$store" ]; then rm "$store"; else echo "credentials not found in native keychain"; exit 1; fi ;;
            esac
            """);
        WriteHelper("tokenonly", """
            #!/bin/sh
            cat > /dev/null
            echo '{"ServerURL":"x","Username":"<token>","Secret":"refresh-xyz"}'
            """);
        WriteHelper("broken", """
            #!/bin/sh
            cat > /dev/null
            echo "keychain locked"; exit 3
            """);
        Environment.SetEnvironmentVariable("PATH", _dir.Path + ":" + _originalPath);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("PATH", _originalPath);
        _dir.Dispose();
    }

    [Fact]
    public async Task Case23_ConfiguredHelperMissing_IsAHardErrorNamingTheHelper()
    {
        var config = _dir.Write("config.json", """{"credHelpers":{"reg.test":"does-not-exist"}}""");
        var provider = new DefaultCredentialProvider(new CredentialSources { DockerConfig = config });
        var ex = await Assert.ThrowsAsync<CredentialHelperException>(async () => await provider.GetAsync("reg.test", "app"));
        Assert.Contains("docker-credential-does-not-exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains(config, ex.Message, StringComparison.Ordinal);
        Assert.Null(await provider.GetAsync("other.test", "app")); // other registries are not affected
    }

    [Fact]
    public async Task Case24_HelperWithoutCredentials_MeansAnonymous()
    {
        var config = _dir.Write("config.json", """{"credsStore":"fake"}""");
        Assert.Null(await new DefaultCredentialProvider(new CredentialSources { DockerConfig = config }).GetAsync("reg.test", "app"));
    }

    [Fact]
    public async Task Case25_HelperTokenUser_BecomesAnIdentityToken()
    {
        var config = _dir.Write("config.json", """{"credHelpers":{"reg.test":"tokenonly"}}""");
        var credential = await new DefaultCredentialProvider(new CredentialSources { DockerConfig = config }).GetAsync("reg.test", "app");
        Assert.Equal("refresh-xyz", credential!.IdentityToken);
        Assert.Equal(string.Empty, credential.Password);
    }

    [Fact]
    public async Task HelperFailure_IsReportedWithItsMessageAndExitCode()
    {
        var ex = await Assert.ThrowsAsync<CredentialHelperException>(() => new CredentialHelper("broken", "config.json").GetAsync("reg.test"));
        Assert.Contains("exit 3: keychain locked", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HelperNameWithAPath_IsRefused() =>
        Assert.Throws<CredentialHelperException>(() => new CredentialHelper("../../bin/sh", "config.json"));

    [Fact]
    public async Task StoreAndErase_WithAHelper_KeepTheSecretOutOfTheFileAndOffTheCommandLine()
    {
        var config = _dir.Write("config.json", """{"credsStore":"fake","experimental":"enabled"}""");
        var store = new CredentialStore(config);
        Assert.Equal("docker-credential-fake", await store.StoreAsync("reg.test:5000", new RegistryCredential("alice", "pw-123")));
        var text = await File.ReadAllTextAsync(config);
        Assert.DoesNotContain("pw-123", text, StringComparison.Ordinal);
        Assert.Contains("\"experimental\"", text, StringComparison.Ordinal);
        Assert.Equal("argv: store", (await File.ReadAllTextAsync(Path.Combine(_dir.Path, "calls"))).Trim());

        var credential = await new DefaultCredentialProvider(new CredentialSources { DockerConfig = config }).GetAsync("reg.test:5000", "app");
        Assert.Equal("pw-123", credential!.Password);

        Assert.True(await store.EraseAsync("reg.test:5000"));
        Assert.Null(await new DefaultCredentialProvider(new CredentialSources { DockerConfig = config }).GetAsync("reg.test:5000", "app"));
    }

    [Fact]
    public async Task StoreWithoutHelper_WritesAuthAtomicallyWithMode0600AndKeepsOtherFields()
    {
        var config = _dir.Write("config.json", """{"auths":{"https://reg.test/v1/":{"auth":"b2xkOm9sZA=="}},"psFormat":"table"}""");
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await new CredentialStore(config).StoreAsync("reg.test", new RegistryCredential("bob", "new-pw"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config));
        var file = AuthFile.Load(config);
        Assert.Equal("new-pw", file.Entries["reg.test"].Password);
        Assert.Single(file.Entries);
        Assert.Contains("\"psFormat\": \"table\"", await File.ReadAllTextAsync(config), StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp", SearchOption.AllDirectories));

        Assert.True(await new CredentialStore(config).EraseAsync("reg.test"));
        Assert.False(await new CredentialStore(config).EraseAsync("reg.test"));
        Assert.Empty(AuthFile.Load(config).Entries);
    }

    [Fact]
    public async Task StoreForDockerHub_UsesDockersLegacyKey()
    {
        var config = Path.Combine(_dir.Path, "new", "config.json");
        await new CredentialStore(config).StoreAsync("docker.io", new RegistryCredential("carol", "pw"));
        Assert.Contains(AuthKeys.DockerHubServerUrl, await File.ReadAllTextAsync(config), StringComparison.Ordinal);
    }

    private void WriteHelper(string suffix, string script)
    {
        var path = Path.Combine(_dir.Path, "docker-credential-" + suffix);
        File.WriteAllText(path, script.Replace("\r", string.Empty, StringComparison.Ordinal) + "\n", new UTF8Encoding(false));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
