using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Issue #15's "mistakes caught, habits honoured", through the real CLI: unknown options and commands with a
/// suggestion (never taken as an image name), global flags before the command, image-tools' -debug, no archive
/// written to a terminal, no surprise prompt, and JSON written as docker and skopeo write it.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class CliHabitsTests(RealComponentsFixture env)
{
    [Theory]
    [InlineData("--platfrom", "--platform")]
    [InlineData("--src-tls-verify=false", "--tls-verify")]
    [InlineData("--all-platform", "--all-platforms")]
    public async Task UnknownOption_IsAnErrorWithTheClosestOne_NotAnImage(string typed, string suggested)
    {
        using var dir = new TempDirectory();
        var save = await FerryCli.RunAsync("save", "-o", dir.File("x.tar"), typed, "linux/arm64", $"{env.Host}/test/app:1");
        Assert.Equal(1, save.ExitCode);
        Assert.Contains($"unknown option {typed.Split('=')[0]}; did you mean {suggested}?", save.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("invalid reference", save.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("x.tar")));
    }

    [Fact]
    public async Task RootHelp_ListsEachCommandInOneLine_ExamplesStayWithTheCommand()
    {
        var root = (await FerryCli.RunAsync("--help")).EnsureSuccess("ferry --help").StandardOutput;
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(root, "Examples:"));
        var rows = root[root.IndexOf("Commands:", StringComparison.Ordinal)..].Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
        Assert.Equal(14, rows.Count); // one per command, ls and extract included
        Assert.All(rows, r => Assert.Matches(@"^  [a-z]+ ", r));
        var load = (await FerryCli.RunAsync("load", "--help")).EnsureSuccess("ferry load --help").StandardOutput;
        Assert.Contains("--images-from load-failed.txt", load, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownCommand_SuggestsTheClosest()
    {
        var run = await FerryCli.RunAsync("sav", "nginx:1.27");
        Assert.Equal(1, run.ExitCode);
        Assert.Equal("ferry: error: unknown command 'sav'; did you mean 'save'? (see 'ferry --help')", run.StandardError.Trim());
    }

    /// <summary>Issue #27's "messages that point the wrong way": a wrong loopback port, a read-only registry.</summary>
    [Fact]
    public async Task Messages_PointTheRightWay()
    {
        using var dir = new TempDirectory();

        // A refused connection on this machine is a mistyped port: said at once, not after five attempts.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var refused = await FerryCli.RunAsync("save", "-o", dir.File("r.tar"), $"127.0.0.1:{FreePort.Next()}/app:1");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Connection refused", refused.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("attempts", refused.StandardError, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(4), $"took {clock.Elapsed}");

        // A registry that refuses uploads (ferry serve is read-only) is said to be read-only, not "POST … returned 405".
        var bundle = dir.File("b.tar");
        (await FerryCli.RunAsync("save", "-o", bundle, $"{env.Host}/test/app:1")).EnsureSuccess("save");
        await using var server = await FerryServer.StartAsync(bundle);
        var push = await FerryCli.RunAsync("load", bundle, "--to", $"{server.Host}/elsewhere");
        Assert.Equal(1, push.ExitCode);
        Assert.Contains("does not take pushes", push.StandardError, StringComparison.Ordinal);
        Assert.Contains("read-only", push.StandardError, StringComparison.Ordinal);
    }

    /// <summary>Issue #27's "mistakes", each the way a newcomer or a docker, skopeo or image-tools user types it.</summary>
    [Fact]
    public async Task NewcomersMistakes_GetHelpOrTheRightSpelling()
    {
        var bare = await FerryCli.RunAsync();
        Assert.Equal(0, bare.ExitCode);
        Assert.Contains("Commands:", bare.StandardOutput, StringComparison.Ordinal);
        foreach (var typed in new[] { "version", "-v" })
        {
            var version = await FerryCli.RunAsync(typed);
            Assert.Equal(1, version.ExitCode);
            Assert.Contains("the version is 'ferry --version'", version.StandardError, StringComparison.Ordinal);
        }

        using var dir = new TempDirectory();

        // skopeo's docker:// on save; image-tools' Go spelling -compress=zstd; the compression a file name says.
        var transport = await FerryCli.RunAsync("save", "-o", dir.File("t.tar"), $"docker://{env.Host}/test/app:1");
        Assert.True(transport.ExitCode == 0, transport.StandardError);
        var goFlags = await FerryCli.RunAsync("save", "-compress=zstd", "-o", dir.File("z.tar.zst"), $"{env.Host}/test/app:1");
        Assert.True(goFlags.ExitCode == 0, goFlags.StandardError);
        var byName = await FerryCli.RunAsync("save", "-o", dir.File("g.tgz"), $"{env.Host}/test/app:1");
        Assert.True(byName.ExitCode == 0, byName.StandardError);
        var gzip = await File.ReadAllBytesAsync(dir.File("g.tgz"));
        var zstd = await File.ReadAllBytesAsync(dir.File("z.tar.zst"));
        Assert.Equal("1f8b", Convert.ToHexStringLower(gzip, 0, 2));
        Assert.Equal("28b52ffd", Convert.ToHexStringLower(zstd, 0, 4));
        var clash = await FerryCli.RunAsync("save", "-o", dir.File("c.tgz"), "--compress", "none", $"{env.Host}/test/app:1");
        Assert.Equal(1, clash.ExitCode);
        Assert.Contains("names a gzip archive, but --compress none was given", clash.StandardError, StringComparison.Ordinal);

        // A directory as -o is said before anything is downloaded.
        var directory = await FerryCli.RunAsync("save", "-o", dir.Path + "/", $"{env.Host}/test/app:1", "--progress", "json");
        Assert.Equal(1, directory.ExitCode);
        Assert.Contains("is a directory: name the archive file inside it", directory.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("resolved", directory.StandardError, StringComparison.Ordinal);

        // /dev/stdout into a pipe, and /dev/stdin from one, are streams.
        var sh = Components.Require("sh", "dash");
        var ferry = $"dotnet '{FerryCli.AssemblyPath}'";
        var piped = await ProcessRunner.RunAsync(sh, ["-c", $"{ferry} save -q -o /dev/stdout {env.Host}/test/app:1 | cat > '{dir.File("p.tar")}' && {ferry} inspect /dev/stdin < '{dir.File("p.tar")}'"]);
        Assert.True(piped.ExitCode == 0, piped.StandardError);
        Assert.Contains($"{env.Host}/test/app:1", piped.StandardOutput, StringComparison.Ordinal);

        // docker load's -i ARCHIVE; --image has no one-letter alias any more.
        var load = await FerryCli.RunAsync("load", "-i", dir.File("t.tar"), "--to", $"{env.Host}/mistakes");
        Assert.True(load.ExitCode == 0, load.StandardError);

        // A digest-only name is printed with its one digest, not name@sha256:…@sha256:….
        var digest = (await FerryCli.RunAsync("ls", "--digests", $"{env.Host}/mistakes/test/app")).StandardOutput.Split('\t', '\n')[1];
        var byDigest = await FerryCli.RunAsync("copy", $"docker://{env.Host}/mistakes/test/app@{digest}", $"docker://{env.Host}/mistakes/pinned@{digest}", "--force");
        Assert.True(byDigest.ExitCode == 0, byDigest.StandardError);
        Assert.DoesNotContain($"@{digest}@", byDigest.StandardError, StringComparison.Ordinal);
        var none = await FerryCli.RunAsync("load", "--to", $"{env.Host}/mistakes");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("no archive given", none.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GlobalFlagsBeforeTheCommand_AndTheSingleDashDebug_Work()
    {
        using var dir = new TempDirectory();
        var quiet = await FerryCli.RunAsync("-q", "save", "-o", dir.File("a.tar"), $"{env.Host}/test/app:1");
        Assert.True(quiet.ExitCode == 0, quiet.StandardError);
        Assert.Equal(string.Empty, quiet.StandardError.Trim());

        var debug = await FerryCli.RunAsync("save", "-debug", "-o", dir.File("b.tar"), $"{env.Host}/test/app:1");
        Assert.True(debug.ExitCode == 0, debug.StandardError);
        Assert.Contains("debug:", debug.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("ebug")));
    }

    [Fact]
    public async Task ArchiveToATerminal_IsRefused_AndNoImageOnATerminalDoesNotWaitAtAPrompt()
    {
        Components.Require("script", "bsdutils");
        using var dir = new TempDirectory();
        var ferry = $"dotnet {FerryCli.AssemblyPath}";
        var toTerminal = await ProcessRunner.RunAsync("script", ["-qec", $"{ferry} save -o - {env.Host}/test/app:1", "/dev/null"], TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, toTerminal.ExitCode);
        Assert.Contains("refusing to write an archive to a terminal", toTerminal.StandardOutput, StringComparison.Ordinal);

        var noImage = await ProcessRunner.RunAsync("script", ["-qec", $"{ferry} save -o {dir.File("p.tar")}", "/dev/null"], TimeSpan.FromSeconds(30));
        Assert.NotEqual(0, noImage.ExitCode);
        Assert.Contains("no image given", noImage.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(">>>", noImage.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompletionScripts_AreGeneratedFromTheCommandTree()
    {
        var ferry = $"dotnet {FerryCli.AssemblyPath}";
        var bash = await ProcessRunner.RunAsync("bash", ["-c", $"source <({ferry} completion bash); COMP_WORDS=(ferry save --pla); COMP_CWORD=2; _ferry; echo \"${{COMPREPLY[@]}}\"; COMP_WORDS=(ferry co); COMP_CWORD=1; _ferry; echo \"${{COMPREPLY[@]}}\""], TimeSpan.FromMinutes(1));
        Assert.True(bash.ExitCode == 0, bash.StandardError);
        Assert.Equal(["--platform --plain-http", "copy completion"], bash.StandardOutput.Trim().Split('\n'));
        foreach (var shell in new[] { "zsh", "fish", "pwsh" })
        {
            var script = await FerryCli.RunAsync("completion", shell);
            Assert.True(script.ExitCode == 0, script.StandardError);
            Assert.Contains("all-platforms", script.StandardOutput, StringComparison.Ordinal);
        }

        var unknown = await FerryCli.RunAsync("completion", "tcsh");
        Assert.Equal(1, unknown.ExitCode);
        Assert.DoesNotContain("\\n", unknown.StandardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("save")]
    [InlineData("load")]
    public async Task MissingDaemonSocket_IsSaidInWords(string command)
    {
        using var dir = new TempDirectory();
        var socket = dir.File("docker.sock");
        var run = command == "save"
            ? await FerryCli.RunAsync("save", "--daemon", "-H", $"unix://{socket}", "-o", dir.File("x.tar"), "app:1")
            : await FerryCli.RunAsync("load", "--daemon", "-H", $"unix://{socket}", dir.File("x.tar"));
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{socket} does not exist; is the Docker daemon running", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Cannot assign requested address", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JsonFerryWrites_KeepsPlusSigns()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("app.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/oci:1")).EnsureSuccess("ferry save");
        var index = System.Text.Encoding.UTF8.GetString(await ReadEntryAsync(archive, "index.json"));
        Assert.Contains("+json", index, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", index, StringComparison.OrdinalIgnoreCase);
        var inspect = await FerryCli.RunAsync("inspect", "--json", archive);
        Assert.DoesNotContain("\\u002B", inspect.StandardOutput, StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<byte[]> ReadEntryAsync(string archive, string name)
    {
        await using var file = File.OpenRead(archive);
        using var reader = new System.Formats.Tar.TarReader(file);
        while (await reader.GetNextEntryAsync() is { } entry)
        {
            if (entry.Name == name)
            {
                using var buffer = new MemoryStream();
                await entry.DataStream!.CopyToAsync(buffer);
                return buffer.ToArray();
            }
        }

        throw new InvalidOperationException($"{name} is not in {archive}");
    }
}
