using System.Globalization;
using System.Net;

namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>
/// Another host on this machine: a network namespace joined to the root namespace by a veth pair, with addresses
/// from 192.0.2.0/24 (the documentation range; a /29 per lab, so labs can run side by side), optionally a rate limit
/// (<c>tc tbf</c>, both directions). The test runs servers "on the far host" with <see cref="Prefix"/>. Everything is
/// removed on dispose, also when the test failed. Needs root (CI runs as root); without it the test fails saying so.
/// </summary>
internal sealed class NetworkLab : IAsyncDisposable
{
    private static int _next = Environment.ProcessId % 16;

    private NetworkLab(string name, int block)
    {
        Name = name;
        var baseOctet = block * 8;
        NearAddress = IPAddress.Parse($"192.0.2.{baseOctet + 1}");
        FarAddress = IPAddress.Parse($"192.0.2.{baseOctet + 2}");
        ThirdAddress = IPAddress.Parse($"192.0.2.{baseOctet + 3}");
        NearLink = $"fy{name[^6..]}n";
        FarLink = $"fy{name[^6..]}f";
    }

    /// <summary>The namespace's name.</summary>
    public string Name { get; }

    /// <summary>This (root) side's address on the link.</summary>
    public IPAddress NearAddress { get; }

    /// <summary>The far host's address.</summary>
    public IPAddress FarAddress { get; }

    /// <summary>A second address on this side: another client host, for traffic that must come from elsewhere.</summary>
    public IPAddress ThirdAddress { get; }

    public string NearLink { get; }

    public string FarLink { get; }

    /// <summary>The command prefix that runs a program on the far host.</summary>
    public string[] Prefix => ["ip", "netns", "exec", Name];

    public static async Task<NetworkLab> CreateAsync()
    {
        if (GetEuid() != 0)
        {
            throw new InvalidOperationException("the field lab needs root (ip netns, veth, tc); run the tests as root, as CI does");
        }

        var block = Interlocked.Increment(ref _next) % 31;
        var name = "ferry-" + Guid.NewGuid().ToString("N")[..6];
        var lab = new NetworkLab(name, block);
        try
        {
            await lab.IpAsync("netns", "add", name);
            await lab.IpAsync("link", "add", lab.NearLink, "type", "veth", "peer", "name", lab.FarLink);
            await lab.IpAsync("link", "set", lab.FarLink, "netns", name);
            await lab.IpAsync("addr", "add", $"{lab.NearAddress}/29", "dev", lab.NearLink);
            await lab.IpAsync("addr", "add", $"{lab.ThirdAddress}/29", "dev", lab.NearLink);
            await lab.IpAsync("link", "set", lab.NearLink, "up");
            await lab.FarAsync("ip", "addr", "add", $"{lab.FarAddress}/29", "dev", lab.FarLink);
            await lab.FarAsync("ip", "link", "set", lab.FarLink, "up");
            await lab.FarAsync("ip", "link", "set", "lo", "up");
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Limits the link to <paramref name="megabitsPerSecond"/> each way (<c>tc qdisc … tbf</c> on both ends).</summary>
    public async Task ShapeAsync(int megabitsPerSecond)
    {
        var rate = string.Create(CultureInfo.InvariantCulture, $"{megabitsPerSecond}mbit");
        await Run("tc", "qdisc", "replace", "dev", NearLink, "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms");
        await FarAsync("tc", "qdisc", "replace", "dev", FarLink, "root", "tbf", "rate", rate, "burst", "32kbit", "latency", "400ms");
    }

    /// <summary>Runs a command on the far host and checks it succeeded.</summary>
    public Task FarAsync(params string[] command) => Run([.. Prefix, .. command]);

    public async ValueTask DisposeAsync()
    {
        // Processes still in the namespace are the test's: end them, then remove the namespace and the link.
        await ProcessRunner.RunAsync("ip", ["netns", "pids", Name]).ContinueWith(async t =>
        {
            if (t.IsCompletedSuccessfully)
            {
                foreach (var pid in t.Result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    await ProcessRunner.RunAsync("kill", ["-9", pid.Trim()]);
                }
            }
        }).Unwrap();
        await ProcessRunner.RunAsync("ip", ["link", "del", NearLink]);
        await ProcessRunner.RunAsync("ip", ["netns", "del", Name]);
    }

    private Task IpAsync(params string[] arguments) => Run(["ip", .. arguments]);

    private static async Task Run(params string[] command)
    {
        var result = await ProcessRunner.RunAsync(command[0], command[1..], TimeSpan.FromSeconds(30));
        result.EnsureSuccess(string.Join(' ', command));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
