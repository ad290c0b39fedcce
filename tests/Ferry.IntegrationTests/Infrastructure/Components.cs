namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>Finds the real components the tests need, failing (never skipping) with what to install.</summary>
internal static class Components
{
    public static string Require(string program, string debianPackage)
    {
        foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin" })
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"'{program}' is not installed: run 'apt-get install {debianPackage}' (or ./test.sh, which installs it)");
    }

    public static string DockerClient => File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : Require("docker", "docker.io");
}
