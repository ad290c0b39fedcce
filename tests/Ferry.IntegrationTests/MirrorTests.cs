using System.Diagnostics;
using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// Incremental mirrors and bundle files (issue #26, fourth and fifth items) against real registries with their access
/// logs on: a re-run of a three-repository mirror makes no blob request at either registry; a skopeo sync YAML file
/// run by <c>skopeo sync</c> and by <c>ferry copy -f</c> gives the same tags at the same digests; Ferry's own keys
/// (platforms, renames, semver, per-registry credentials) and <c>--dry-run</c> take effect; unknown keys name their line.
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class MirrorTests(RealComponentsFixture env)
{
    [Fact]
    public async Task ReRunningAMirror_MakesNoBlobRequest_AndCopiesOnlyWhatChanged()
    {
        await using var source = await RegistryProcess.StartAsync(new RegistryConfig { AccessLog = true });
        await using var target = await RegistryProcess.StartAsync(new RegistryConfig { AccessLog = true });
        using var http = new HttpClient();
        using var dir = new TempDirectory();
        var lines = new List<string>();
        foreach (var repository in new[] { "mirror/a", "mirror/b", "mirror/c" })
        {
            var image = TestImages.Image([TestImages.RandomLayer(repository, 256 * 1024, docker: false)], docker: false, label: repository);
            await TestImages.PushImageAsync(http, source.Host, repository, image, "1.0");
            await TestImages.PushManifestAsync(http, source.Host, repository, image.Manifest, "1.1");
            lines.Add($"{source.Host}/{repository}");
        }

        var list = dir.File("mirror.txt");
        await File.WriteAllLinesAsync(list, lines);
        var clock = Stopwatch.StartNew();
        var first = await FerryCli.RunAsync("copy", "-f", list, "--all-tags", "--to", $"{target.Host}/m");
        var firstTime = clock.Elapsed;
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.Contains("copied 6 image(s)", first.StandardError, StringComparison.Ordinal);

        var sourceBefore = source.Requests.Count;
        var targetBefore = target.Requests.Count;
        clock.Restart();
        var second = await FerryCli.RunAsync("copy", "-f", list, "--all-tags", "--to", $"{target.Host}/m", "--progress", "json");
        var secondTime = clock.Elapsed;
        Assert.True(second.ExitCode == 0, second.StandardError);
        var blobRequests = source.Requests.Skip(sourceBefore).Concat(target.Requests.Skip(targetBefore)).Where(r => r.Contains("/blobs/", StringComparison.Ordinal)).ToList();
        Assert.True(blobRequests.Count == 0, string.Join("\n", blobRequests));
        var summary = JsonLines(second.StandardError).Single(e => (string?)e["event"] == "summary");
        Assert.Equal(0, (int)summary["images"]!);
        Assert.Equal(6, (int)summary["unchanged"]!);
        Assert.Equal(6, JsonLines(second.StandardError).Count(e => (string?)e["event"] == "image-unchanged"));
        Assert.Equal(6, second.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Console.WriteLine($"MirrorTests: incremental re-run {secondTime.TotalMilliseconds:F0} ms / first run {firstTime.TotalMilliseconds:F0} ms = {secondTime / firstTime:F2}; re-run requests: source {source.Requests.Count - sourceBefore}, target {target.Requests.Count - targetBefore}");

        // One repository gains a tag and another's tag moves: only those two are copied, said per image.
        var changed = TestImages.Image([TestImages.RandomLayer("mirror/b2", 128 * 1024, docker: false)], docker: false, label: "b2");
        await TestImages.PushImageAsync(http, source.Host, "mirror/b", changed, "1.1");
        await TestImages.PushImageAsync(http, source.Host, "mirror/c", changed, "2.0");
        var third = await FerryCli.RunAsync("copy", "-f", list, "--all-tags", "--to", $"{target.Host}/m");
        Assert.True(third.ExitCode == 0, third.StandardError);
        Assert.Contains("copied 2 image(s)", third.StandardError, StringComparison.Ordinal);
        Assert.Contains("; 5 unchanged", third.StandardError, StringComparison.Ordinal);
        Assert.True(third.StandardError.Contains($"{source.Host}/mirror/a:1.0 -> {target.Host}/m/mirror/a:1.0@", StringComparison.Ordinal), third.StandardError);
        Assert.Contains("unchanged (already there)", third.StandardError, StringComparison.Ordinal);

        // --force copies every image again (nothing uploaded: every blob is there already).
        var forced = await FerryCli.RunAsync("copy", "-f", list, "--all-tags", "--to", $"{target.Host}/m", "--force");
        Assert.True(forced.ExitCode == 0, forced.StandardError);
        Assert.Contains("copied 7 image(s)", forced.StandardError, StringComparison.Ordinal);
        Assert.DoesNotContain("unchanged", forced.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReCopyingIntoTheEngine_SkipsAnImageItHoldsByImageId()
    {
        using var http = new HttpClient();
        var image = TestImages.Image([TestImages.RandomLayer("mirror/engine", 64 * 1024, docker: true)], docker: true, label: "mirror-engine");
        await TestImages.PushImageAsync(http, env.Host, "mirror/engine", image, "1.0");
        var first = await FerryCli.RunAsync("copy", "-H", env.Docker.Host, $"docker://{env.Host}/mirror/engine:1.0", "docker-daemon:mirror/engine:1.0");
        Assert.True(first.ExitCode == 0, first.StandardError);
        var second = await FerryCli.RunAsync("copy", "-H", env.Docker.Host, $"docker://{env.Host}/mirror/engine:1.0", "docker-daemon:mirror/engine:1.0");
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Contains("unchanged (already there)", second.StandardError, StringComparison.Ordinal);
        Assert.Contains("all 1 image(s) unchanged", second.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASkopeoSyncFile_GivesTheSameTagsAndDigests_WithSkopeoAndFerry()
    {
        var skopeo = Components.Require("skopeo", "skopeo");
        await using var source = await RegistryProcess.StartAsync(new RegistryConfig { AccessLog = true });
        using var http = new HttpClient();
        using var dir = new TempDirectory();
        string[] alphaTags = ["1.0", "1.1", "2.0", "dev"];
        var alpha = TestImages.Image([TestImages.RandomLayer("sync/alpha", 64 * 1024, docker: false)], docker: false, label: "alpha");
        await TestImages.PushImageAsync(http, source.Host, "sync/alpha", alpha, alphaTags[0]);
        foreach (var tag in alphaTags.Skip(1))
        {
            await TestImages.PushManifestAsync(http, source.Host, "sync/alpha", alpha.Manifest, tag);
        }

        var beta = TestImages.Image([TestImages.RandomLayer("sync/beta", 64 * 1024, docker: true)], docker: true, label: "beta");
        await TestImages.PushImageAsync(http, source.Host, "sync/beta", beta, "v1");
        await TestImages.PushManifestAsync(http, source.Host, "sync/beta", beta.Manifest, "v2");
        var gamma = TestImages.Image([TestImages.RandomLayer("sync/gamma", 64 * 1024, docker: false)], docker: false, label: "gamma");
        foreach (var tag in new[] { "1.2.0", "1.3.0", "2.0.0", "nightly" })
        {
            await TestImages.PushImageAsync(http, source.Host, "sync/gamma", gamma, tag);
        }

        // skopeo sync's own example layout, unchanged: every tag ([]), named tags and a digest, a tag regex.
        var yaml = dir.File("sync.yml");
        await File.WriteAllTextAsync(yaml, $"""
            {source.Host}:
                tls-verify: false
                images:
                    sync/alpha: []
                    sync/beta:
                        - "v1"
                        - "{beta.Manifest.Digest}"
                images-by-tag-regex:
                    sync/gamma: ^1\.[0-9]+\.0$
            """);

        var synced = await ProcessRunner.RunAsync(skopeo, ["sync", "--src", "yaml", "--dest", "docker", "--dest-tls-verify=false", yaml, $"{env.Host}/skopeo-sync"], TimeSpan.FromMinutes(3));
        Assert.True(synced.ExitCode == 0, synced.StandardError);
        var copied = await FerryCli.RunAsync("copy", "-f", yaml, "--to", $"{env.Host}/ferry-sync");
        Assert.True(copied.ExitCode == 0, copied.StandardError);

        // skopeo names a repository by its last path component; Ferry keeps the path under the prefix.
        foreach (var repository in new[] { "alpha", "beta", "gamma" })
        {
            var bySkopeo = await FerryCli.RunAsync("ls", "--digests", $"{env.Host}/skopeo-sync/{repository}");
            var byFerry = await FerryCli.RunAsync("ls", "--digests", $"{env.Host}/ferry-sync/sync/{repository}");
            Assert.True(bySkopeo.ExitCode == 0 && byFerry.ExitCode == 0, bySkopeo.StandardError + byFerry.StandardError);
            Assert.Equal(Sorted(bySkopeo.StandardOutput), Sorted(byFerry.StandardOutput));
        }

        var gammaTags = await FerryCli.RunAsync("ls", $"{env.Host}/ferry-sync/sync/gamma");
        Assert.Equal(["1.2.0", "1.3.0"], Sorted(gammaTags.StandardOutput));

        // A dry run lists every tag that matched with its digest, and reads no blob.
        var before = source.Requests.Count;
        var dry = await FerryCli.RunAsync("save", "-f", yaml, "--dry-run");
        Assert.True(dry.ExitCode == 0, dry.StandardError);
        var expected = alphaTags.Select(t => $"{source.Host}/sync/alpha:{t}\t{alpha.Manifest.Digest}")
            .Append($"{source.Host}/sync/beta:v1\t{beta.Manifest.Digest}")
            .Append($"{source.Host}/sync/beta@{beta.Manifest.Digest}\t{beta.Manifest.Digest}")
            .Append($"{source.Host}/sync/gamma:1.2.0\t{gamma.Manifest.Digest}")
            .Append($"{source.Host}/sync/gamma:1.3.0\t{gamma.Manifest.Digest}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), Sorted(dry.StandardOutput));
        Assert.DoesNotContain(source.Requests.Skip(before), r => r.Contains("/blobs/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FerrysOwnKeys_TakeEffect_AndUnknownKeysNameTheirLine()
    {
        using var dir = new TempDirectory();
        var htpasswd = Components.Require("htpasswd", "apache2-utils");
        (await ProcessRunner.RunAsync(htpasswd, ["-Bbc", dir.File("htpasswd"), "mirror", "s3cret-Pa55"])).EnsureSuccess("htpasswd");
        await using var locked = await RegistryProcess.StartAsync(dir.File("htpasswd"));
        using var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", Convert.ToBase64String("mirror:s3cret-Pa55"u8.ToArray()));
        var arm = TestImages.Image([TestImages.RandomLayer("keys/arm", 32 * 1024, docker: false)], docker: false, architecture: "arm64", label: "arm");
        var amd = TestImages.Image([TestImages.RandomLayer("keys/amd", 32 * 1024, docker: false)], docker: false, label: "amd");
        var index = TestImages.Index([amd, arm], docker: false);
        foreach (var repository in new[] { "keys/app", "keys/tool" })
        {
            foreach (var image in new[] { arm, amd })
            {
                await TestImages.PushImageAsync(http, locked.Host, repository, image, null);
            }

            foreach (var tag in new[] { "1.0.0", "1.4.2", "2.0.0", "edge" })
            {
                await TestImages.PushManifestAsync(http, locked.Host, repository, index, tag);
            }
        }

        var bundle = dir.File("bundle.yaml");
        var credentials = "  credentials:\n    username: mirror\n    password: s3cret-Pa55\n";
        var text = $"""
            # Ferry's keys beside skopeo's: platforms, signatures, a semver range with skopeo's comma, a rename
            platforms: [linux/arm64]
            signatures: drop
            {locked.Host}:
            {credentials}  images-by-semver:
                keys/app: ">= 1.0, < 2"
              images:
                keys/tool:
                  tags: [edge]
                  as: team/tool

            """;
        await File.WriteAllTextAsync(bundle, text);
        var archive = dir.File("keys.tar");
        var save = await FerryCli.RunAsync("save", "-f", bundle, "-o", archive);
        Assert.True(save.ExitCode == 0, save.StandardError);
        Assert.DoesNotContain("s3cret", save.StandardError + save.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"{locked.Host}/keys/app: 2 of 4 tag(s)", save.StandardError, StringComparison.Ordinal);
        var inspect = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", archive)).StandardOutput)!;
        var images = inspect["images"]!.AsArray();
        Assert.Equal(
            [$"{locked.Host}/keys/app:1.0.0", $"{locked.Host}/keys/app:1.4.2", "docker.io/team/tool:edge"],
            images.Select(i => (string)i!["name"]!).Order(StringComparer.Ordinal).ToArray());
        Assert.All(images, i => Assert.Equal(["linux/arm64/v8"], i!["platforms"]!.AsArray().Select(p => (string)p!).ToArray()));

        var again = await FerryCli.RunAsync("save", "-f", bundle, "-o", archive);
        Assert.True(again.ExitCode == 0, again.StandardError);
        Assert.Contains("up to date", again.StandardError, StringComparison.Ordinal);

        // Without the bundle's credentials the registry refuses.
        await File.WriteAllTextAsync(bundle, text.Replace(credentials, string.Empty, StringComparison.Ordinal));
        var refused = await FerryCli.RunAsync("save", "-f", bundle, "-o", dir.File("refused.tar"));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("requires a user name and password", refused.StandardError, StringComparison.Ordinal);

        // Unknown keys are errors that name their line: a skopeo file's typo is not silently skipped.
        var typo = dir.File("typo.yaml");
        await File.WriteAllTextAsync(typo, $"{env.Host}:\n  images:\n    test/app: [\"1\"]\n  tls-verfy: false\n");
        var bad = await FerryCli.RunAsync("copy", "-f", typo, "--to", $"{env.Host}/never");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"{typo}:4: registry {env.Host}: unknown key 'tls-verfy'", bad.StandardError, StringComparison.Ordinal);
        await File.WriteAllTextAsync(typo, "platform: [linux/amd64]\n");
        var top = await FerryCli.RunAsync("save", "-f", typo, "-o", dir.File("x.tar"));
        Assert.Equal(1, top.ExitCode);
        Assert.Contains($"{typo}:1: unknown key 'platform'", top.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("x.tar")));
    }

    private static string[] Sorted(string text) => [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)];

    private static List<JsonNode> JsonLines(string text) =>
        [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith('{')).Select(l => JsonNode.Parse(l)!)];
}
