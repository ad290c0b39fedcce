namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>A small disk: a tmpfs of a given size mounted on a temporary directory, unmounted on dispose (root).</summary>
internal sealed class SmallDisk : IAsyncDisposable
{
    private readonly TempDirectory _mountPoint = new("ferry-disk");

    private SmallDisk()
    {
    }

    public string Path => _mountPoint.Path;

    public string File(string name) => _mountPoint.File(name);

    public static async Task<SmallDisk> MountAsync(int megabytes)
    {
        var disk = new SmallDisk();
        var mount = await ProcessRunner.RunAsync("mount", ["-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", disk.Path]);
        if (mount.ExitCode != 0)
        {
            disk._mountPoint.Dispose();
            throw new InvalidOperationException($"cannot mount a {megabytes} MiB tmpfs (needs root, as CI has): {mount.StandardError}");
        }

        return disk;
    }

    /// <summary>Fills the disk up to <paramref name="leaveBytes"/> free with a file of its own; returns its path.</summary>
    public string Fill(long leaveBytes)
    {
        var free = new DriveInfo(Path).AvailableFreeSpace;
        var filler = File("filler.bin");
        using var stream = new FileStream(filler, FileMode.Create);
        var chunk = new byte[1 << 20];
        for (long left = free - leaveBytes; left > 0;)
        {
            var n = (int)Math.Min(chunk.Length, left);
            try
            {
                stream.Write(chunk, 0, n);
            }
            catch (IOException)
            {
                break;
            }

            left -= n;
        }

        return filler;
    }

    public async ValueTask DisposeAsync()
    {
        await ProcessRunner.RunAsync("umount", ["-l", Path]);
        _mountPoint.Dispose();
    }
}
