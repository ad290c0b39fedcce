namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>Runs the real ferry CLI (the built ferry.dll) as a separate process.</summary>
internal static class FerryCli
{
    public static string AssemblyPath { get; } = Path.Combine(AppContext.BaseDirectory, "ferry.dll");

    public static Task<ProcessResult> RunAsync(params string[] arguments) => RunWithStdoutAsync(null, arguments);

    public static Task<ProcessResult> RunWithEnvironmentAsync(IDictionary<string, string> environment, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), environment);

    public static Task<ProcessResult> RunWithStdinAsync(string stdin, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), stdin: stdin);

    public static Task<ProcessResult> RunWithStdoutAsync(string? stdoutFile, params string[] arguments) =>
        ProcessRunner.RunAsync("dotnet", new[] { AssemblyPath }.Concat(arguments), TimeSpan.FromMinutes(3), stdoutFile: stdoutFile);
}
