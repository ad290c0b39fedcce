using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ferry.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Ferry.IntegrationTests;

/// <summary>
/// Issue #14's classes through the real CLI against the real registry: no false success on a broken pipe, outputs
/// that are devices, FIFOs or links, "up to date" that vouches for the bytes, a failed list that cannot be written,
/// permanent DNS failures, secrets in daemon addresses, control characters from outside, silent servers, and no
/// raw .NET resource keys in messages. A misbehaving server is a small Kestrel app in the test.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed partial class HardeningTests(RealComponentsFixture env)
{
    private static readonly string Ferry = $"dotnet {FerryCli.AssemblyPath}";

    [Theory]
    [InlineData("none")]
    [InlineData("gzip")]
    public async Task BrokenPipe_IsAFailure_NotASave(string compression)
    {
        var image = await SeedLargeImageAsync("pipe");
        var run = await ProcessRunner.RunAsync("bash", ["-c", $"{Ferry} save -q -c {compression} -o - {image} | head -c 1000 > /dev/null; exit ${{PIPESTATUS[0]}}"], TimeSpan.FromMinutes(2));
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("cannot write the archive to the output stream", run.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("saved", run.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutputThatIsAFifoADeviceOrALink_IsWrittenThroughNeverReplaced()
    {
        using var dir = new TempDirectory();
        var image = $"{env.Host}/test/app:1";

        // A FIFO: written to as a stream (a reader drains it), and still a FIFO afterwards.
        var fifo = dir.File("pipe");
        (await ProcessRunner.RunAsync("mkfifo", [fifo])).EnsureSuccess("mkfifo");
        var reader = ProcessRunner.RunAsync("bash", ["-c", $"cat {fifo} > {dir.File("from-fifo.tar")}"], TimeSpan.FromMinutes(2));
        var save = await FerryCli.RunAsync("save", "-o", fifo, image);
        Assert.True(save.ExitCode == 0, save.StandardError);
        (await reader).EnsureSuccess("cat fifo");
        Assert.Equal(0, (await ProcessRunner.RunAsync("test", ["-p", fifo])).ExitCode);
        Assert.True((await ArchiveVerifierRun(dir.File("from-fifo.tar"))).ExitCode == 0);

        // A device.
        Assert.True((await FerryCli.RunAsync("save", "-o", "/dev/null", image)).ExitCode == 0);
        Assert.Equal(0, (await ProcessRunner.RunAsync("test", ["-c", "/dev/null"])).ExitCode);

        // A symbolic link: followed, the target replaced atomically, the link kept.
        var target = dir.File("real.tar");
        await File.WriteAllTextAsync(target, "previous");
        var link = dir.File("link.tar");
        File.CreateSymbolicLink(link, target);
        var linked = await FerryCli.RunAsync("save", "-o", link, image);
        Assert.True(linked.ExitCode == 0, linked.StandardError);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.True((await ArchiveVerifierRun(target)).ExitCode == 0);
        string[] expected = ["from-fifo.tar", "link.tar", "pipe", "real.tar"];
        Assert.Equal(expected, Directory.GetFileSystemEntries(dir.Path).Select(e => Path.GetFileName(e)).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task UpToDate_VouchesForTheBytes_AFlippedByteIsRewritten()
    {
        using var dir = new TempDirectory();
        var archive = dir.File("app.tar");
        (await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save");
        var again = await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1");
        Assert.Contains("is up to date", again.StandardError, StringComparison.Ordinal);

        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[1536 + 100] ^= 0xff; // inside the first blob
        await File.WriteAllBytesAsync(archive, bytes);
        var repaired = await FerryCli.RunAsync("save", "-o", archive, $"{env.Host}/test/app:1");
        Assert.True(repaired.ExitCode == 0, repaired.StandardError);
        Assert.DoesNotContain("is up to date", repaired.StandardError, StringComparison.Ordinal);
        Assert.True((await ArchiveVerifierRun(archive)).ExitCode == 0);
    }

    [Theory]
    [InlineData("missing-dir/failed.txt")]
    [InlineData("a-directory")]
    public async Task FailedListThatCannotBeWritten_KeepsTheArchiveAndExits2SayingWhy(string failedPath)
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(dir.File("a-directory"));
        var list = dir.File("images.txt");
        await File.WriteAllLinesAsync(list, [$"{env.Host}/test/app:1", $"{env.Host}/test/nothere:1"]);
        var save = await FerryCli.RunAsync("save", "-f", list, "-o", dir.File("out.tar"), "--failed", dir.File(failedPath));
        Assert.Equal(2, save.ExitCode);
        Assert.True(File.Exists(dir.File("out.tar")));
        Assert.Contains("cannot write the failed list", save.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NameThatDoesNotExist_FailsAtOnce_NotAfterRetries()
    {
        using var dir = new TempDirectory();
        var clock = Stopwatch.StartNew();
        var save = await FerryCli.RunAsync("save", "-o", dir.File("x.tar"), "nosuchhost.invalid/team/app:1");
        Assert.Equal(1, save.ExitCode);
        Assert.Contains("cannot reach registry nosuchhost.invalid", save.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("attempts", save.StandardError, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("tcp://admin:hunter2@127.0.0.1:1")]
    [InlineData("ssh://admin:hunter2@127.0.0.1:1")]
    public async Task PasswordInADaemonAddress_IsNeverEchoed(string host)
    {
        using var dir = new TempDirectory();
        var save = await FerryCli.RunAsync("save", "--daemon", "-H", host, "-o", dir.File("x.tar"), "app:1");
        Assert.Equal(1, save.ExitCode);
        Assert.DoesNotContain("hunter2", save.StandardError + save.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlCharactersFromAnArchiveOrARegistry_AreShownEscaped()
    {
        using var dir = new TempDirectory();
        var layout = dir.File("layout");
        (await FerryCli.RunAsync("save", "--format", "dir", "-o", layout, $"{env.Host}/test/app:1")).EnsureSuccess("ferry save dir");
        var index = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json")))!;
        index["manifests"]![0]!["annotations"]!["io.containerd.image.name"] = "evil.example/x\u001b[31m:1\nferry: everything is fine";
        await File.WriteAllTextAsync(Path.Combine(layout, "index.json"), index.ToJsonString());
        foreach (var command in new[] { "inspect", "verify" })
        {
            var run = await FerryCli.RunAsync(command, layout);
            var all = run.StandardOutput + run.StandardError;
            Assert.DoesNotContain("\u001b", all, StringComparison.Ordinal);
            Assert.DoesNotContain("\nferry: everything is fine", all, StringComparison.Ordinal);
            Assert.Contains("\\x1b", all, StringComparison.Ordinal);
        }

        await using var server = await LoopbackHttpServer.StartAsync(async context =>
        {
            context.Response.StatusCode = context.Request.Path == "/v2/" ? 200 : 400;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"\\u001b[2J\\rferry: saved 1 image(s)\"}]}");
        });
        var save = await FerryCli.RunAsync("save", "--retries", "0", "-o", dir.File("x.tar"), $"{server.Host}/team/app:1");
        Assert.Equal(1, save.ExitCode);
        Assert.DoesNotContain("\u001b", save.StandardError, StringComparison.Ordinal);
        Assert.Contains("\\x1b[2J\\rferry: saved", save.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServerThatAcceptsAndGoesSilent_FailsAfterTheTimeoutNamingTheHost()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var held = new List<TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                held.Add(await listener.AcceptTcpClientAsync(stop.Token));
            }
        });

        using var dir = new TempDirectory();
        var clock = Stopwatch.StartNew();
        var save = await FerryCli.RunAsync("save", "--timeout", "1", "--retries", "1", "--retry-delay", "0.1", "-o", dir.File("x.tar"), $"127.0.0.1:{port}/team/app:1");
        await stop.CancelAsync();
        Assert.Equal(1, save.ExitCode);
        Assert.Contains($"127.0.0.1:{port}", save.StandardError, StringComparison.Ordinal);
        Assert.Contains("sent nothing for 1 s", save.StandardError, StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
        foreach (var client in held)
        {
            client.Dispose();
        }

        await Task.WhenAny(accepting, Task.Delay(1000));
    }

    [Fact]
    public async Task Messages_AreHumanLines_NeverRawResourceKeys()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("short.tar"), new byte[700]);
        var runs = new[]
        {
            await FerryCli.RunAsync("verify", dir.File("short.tar")),
            await FerryCli.RunAsync("load", dir.File("short.tar"), "--to", env.Host),
            await FerryCli.RunAsync("save", "-o", "/proc/ferry.tar", $"{env.Host}/test/app:1"),
            await FerryCli.RunAsync("save", "--retries", "0", "-o", dir.File("x.tar"), "127.0.0.1:1/team/app:1"),
        };
        foreach (var run in runs)
        {
            Assert.NotEqual(0, run.ExitCode);
            Assert.False(ResourceKey().IsMatch(run.StandardError), run.StandardError);
        }
    }

    private static Task<ProcessResult> ArchiveVerifierRun(string path) => FerryCli.RunAsync("verify", path);

    /// <summary>An image of one 6 MB incompressible layer: more than a pipe buffer holds.</summary>
    private async Task<string> SeedLargeImageAsync(string name)
    {
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.RandomLayer(name, 6_000_000, docker: true)], docker: true, label: name);
        await TestImages.PushImageAsync(http, env.Host, $"hardening/{name}", image, "1");
        return $"{env.Host}/hardening/{name}:1";
    }

    [GeneratedRegex(@"\b[A-Za-z]+(_[A-Za-z]+){2,}\b")]
    private static partial Regex ResourceKey();
}
