namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>Runs the real ferry CLI (the built ferry.dll) as a separate process.</summary>
internal static class FerryCli
{
    /// <summary>
    /// The CLI from its own build output (src/Ferry.Cli/bin/CONFIG/TFM), not the copy in the test directory: this
    /// project also references ASP.NET Core (for the fault servers), which drops packages the CLI needs from the copy.
    /// </summary>
    public static string AssemblyPath { get; } = LocateCli();

    private static string LocateCli() => BuildOutput(Path.Combine("src", "Ferry.Cli"), "ferry.dll");

    /// <summary>
    /// A project's own build output for the configuration and framework the tests run with
    /// (PROJECT/bin/CONFIG/TFM/ASSEMBLY), found from the repository root (the directory holding Ferry.slnx).
    /// </summary>
    public static string BuildOutput(string project, string assembly)
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd('/'));
        var root = testBin;
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Ferry.slnx")))
        {
            root = root.Parent;
        }

        var path = root is null ? null : Path.Combine(root.FullName, project, "bin", testBin.Parent!.Name, testBin.Name, assembly);
        return path is not null && File.Exists(path) ? path : throw new InvalidOperationException($"{assembly} is not built ({path}); build Ferry.slnx first");
    }

    public static Task<ProcessResult> RunAsync(params string[] arguments) => RunWithStdoutAsync(null, arguments);

    public static Task<ProcessResult> RunWithEnvironmentAsync(IDictionary<string, string> environment, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), environment);

    public static Task<ProcessResult> RunWithStdinAsync(string stdin, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), stdin: stdin);

    public static Task<ProcessResult> RunAsync(IDictionary<string, string> environment, string? stdin, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), environment, stdin: stdin);

    /// <summary>Runs ferry on a lab's far host (inside its network namespace).</summary>
    public static Task<ProcessResult> RunInAsync(NetworkLab lab, params string[] arguments) =>
        ProcessRunner.RunAsync(lab.Prefix[0], [.. lab.Prefix[1..], "dotnet", AssemblyPath, .. arguments], TimeSpan.FromMinutes(5));

    /// <summary>Runs ferry with a longer limit than the usual 3 minutes (slow-link tests).</summary>
    public static Task<ProcessResult> RunSlowAsync(params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(5));

    public static Task<ProcessResult> RunWithStdoutAsync(string? stdoutFile, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), stdoutFile: stdoutFile);
}
