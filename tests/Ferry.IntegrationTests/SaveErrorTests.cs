using Ferry.IntegrationTests.Infrastructure;

namespace Ferry.IntegrationTests;

/// <summary>Bad input gets one clear line on stderr, a non-zero exit, no stack trace and no file.</summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SaveErrorTests(RealComponentsFixture env)
{
    public static TheoryData<string, string[], string> Cases => new()
    {
        { "malformed reference", ["save", "-o", "{dir}/x.tar", "Bad/Name:1"], "repository name must be lowercase" },
        { "bad tag", ["save", "-o", "{dir}/x.tar", "{host}/test/base:no tag"], "invalid" },
        { "unknown tag", ["save", "-o", "{dir}/x.tar", "{host}/test/base:9.9"], "not found" },
        { "unknown repository", ["save", "-o", "{dir}/x.tar", "{host}/test/missing:1"], "not found" },
        { "unknown flag", ["save", "--frobnicate", "-o", "{dir}/x.tar", "{host}/test/base:1"], "--frobnicate" },
        { "missing output directory", ["save", "-o", "{dir}/no/such/dir/x.tar", "{host}/test/base:1"], "does not exist" },
        { "unreachable registry", ["save", "--retries", "0", "-o", "{dir}/x.tar", "127.0.0.1:1/test/base:1"], "cannot reach registry 127.0.0.1:1" },
        { "bad platform", ["save", "--platform", "linux//", "-o", "{dir}/x.tar", "{host}/test/base:1"], "invalid platform" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Save_BadInput_OneClearLineAndNonZeroExit(string what, string[] arguments, string expected)
    {
        using var dir = new TempDirectory();
        var result = await FerryCli.RunAsync(arguments.Select(a => a.Replace("{dir}", dir.Path, StringComparison.Ordinal).Replace("{host}", env.Host, StringComparison.Ordinal)).ToArray());
        Assert.True(result.ExitCode != 0, what);
        var lines = result.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"{what}: expected one line, got:\n{result.StandardError}");
        Assert.StartsWith("ferry: error: ", lines[0], StringComparison.Ordinal);
        Assert.Contains(expected, lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.StandardError, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }
}
