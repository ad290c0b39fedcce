using System.Text.Json.Nodes;
using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>
/// `--shard i/N` (issue #16's shards): N local processes, as N machines of an Indexed Job would, each save their part of
/// one list; every image lands in exactly one part, and the parts merged equal the single-machine bundle (same images,
/// same digests).
/// </summary>
[Collection(RealComponentsCollection.Name)]
public sealed class ShardTests(RealComponentsFixture env)
{
    [Theory]
    [InlineData("save")]
    [InlineData("copy")]
    public async Task AnEmptyShard_SaysSoInItsOwnMode_TextOrJson(string command)
    {
        using var dir = new TempDirectory();
        string[] Args(int part, params string[] more) => command == "save"
            ? ["save", "--shard", $"{part}/2", "-o", dir.File($"p{part}.tar"), .. more, $"{env.Host}/test/app:1"]
            : ["copy", "--shard", $"{part}/2", .. more, $"{env.Host}/test/app:1", $"docker://{env.Host}/shard-empty"];

        // One image, two parts: one of them is empty.
        var runs = new[] { await FerryCli.RunAsync(Args(1)), await FerryCli.RunAsync(Args(2)) };
        var empty = Array.FindIndex(runs, r => r.StandardError.Contains(": 0 of the 1 image(s)", StringComparison.Ordinal));
        Assert.True(empty >= 0, string.Join("\n", runs.Select(r => r.StandardError)));
        Assert.Equal(0, runs[empty].ExitCode);
        Assert.DoesNotContain("{", runs[empty].StandardError, StringComparison.Ordinal); // text mode: no JSON line

        var json = await FerryCli.RunAsync(Args(empty + 1, "--progress", "json"));
        Assert.Equal(0, json.ExitCode);
        var summary = JsonNode.Parse(json.StandardError.Trim().Split('\n').Single())!;
        Assert.Equal("summary", (string?)summary["event"]);
        Assert.Equal(0, (int)summary["images"]!);
    }

    [Fact]
    public async Task ThreeShardsAsThreeProcesses_MergeIntoTheSingleMachineBundle()
    {
        using var http = new HttpClient();
        var shared = TestImages.RandomLayer("shard-base", 200_000, docker: true);
        var names = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            var image = TestImages.Image([shared, TestImages.RandomLayer($"shard-{i}", 20_000, docker: true)], docker: true, label: $"shard-{i}");
            await TestImages.PushImageAsync(http, env.Host, $"shard/app{i}", image, "1");
            names.Add($"{env.Host}/shard/app{i}:1");
        }

        using var dir = new TempDirectory();
        var list = dir.File("images.txt");
        await File.WriteAllLinesAsync(list, ["# the list every machine gets", .. names]);
        (await FerryCli.RunAsync("save", "-f", list, "-o", dir.File("single.tar"))).EnsureSuccess("single-machine save");

        var runs = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => FerryCli.RunAsync("save", "-f", list, "--shard", $"{i}/3", "-o", dir.File($"part-{i}.tar"))));
        Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.StandardError));
        var parts = Enumerable.Range(1, 3).Select(i => dir.File($"part-{i}.tar")).Where(File.Exists).ToList();
        var perPart = new List<Dictionary<string, string>>();
        foreach (var part in parts)
        {
            perPart.Add(await ImagesOfAsync(part));
        }

        Assert.Equal(names.Count, perPart.Sum(p => p.Count)); // each image in exactly one part
        Assert.True(perPart.Count(p => p.Count > 0) >= 2, "eight images all fell into one shard");

        // copy --shard picks the same part as save --shard.
        await using var target = await RegistryProcess.StartAsync();
        var copy = await FerryCli.RunAsync("copy", "-f", list, "--shard", "1/3", "--to", $"{target.Host}/mirror");
        Assert.True(copy.ExitCode == 0, copy.StandardError);
        var firstPart = File.Exists(dir.File("part-1.tar")) ? await ImagesOfAsync(dir.File("part-1.tar")) : [];
        Assert.Equal(firstPart.Count, copy.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        foreach (var (name, digest) in firstPart)
        {
            var repository = name[(name.IndexOf('/', StringComparison.Ordinal) + 1)..name.LastIndexOf(':')];
            Assert.Equal(digest, await RegistryManifests.DigestAsync(target.Host, "mirror/" + repository, "1"));
        }

        var merged = dir.File("merged.tar");
        (await FerryCli.RunAsync(["merge", .. parts, "-o", merged])).EnsureSuccess("ferry merge of the parts");
        Assert.Equal(await ImagesOfAsync(dir.File("single.tar")), await ImagesOfAsync(merged));
    }

    private static async Task<Dictionary<string, string>> ImagesOfAsync(string archive)
    {
        var json = JsonNode.Parse((await FerryCli.RunAsync("inspect", "--json", archive)).EnsureSuccess("inspect").StandardOutput)!;
        return json["images"]!.AsArray().ToDictionary(i => (string)i!["name"]!, i => (string)i!["digest"]!);
    }
}
