using Ferry.IntegrationTests.Infrastructure;
using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.IntegrationTests;

/// <summary>The save path of the transfer engine through Ferry.Core's API, against the real registry.</summary>
[Collection(RealComponentsCollection.Name)]
public sealed class SaveLibraryTests(RealComponentsFixture env)
{
    [Fact]
    public async Task SaveAsync_CancelledWhileDownloading_LeavesNoFileAndKeepsTheOldOne()
    {
        using var dir = new TempDirectory();
        var output = dir.File("cancel.tar");
        await File.WriteAllTextAsync(output, "previous");
        using var cts = new CancellationTokenSource();
        var progress = new SynchronousProgress(e =>
        {
            if (e is DownloadStartedEvent)
            {
                cts.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Images.SaveAsync(
            new SaveRequest { Images = [$"{env.Host}/test/app:1"], Output = output }, progress, cancellationToken: cts.Token));

        Assert.Equal("previous", await File.ReadAllTextAsync(output));
        Assert.Single(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public async Task SaveAsync_ProgressEvents_ArriveInOrderAndAddUp()
    {
        using var dir = new TempDirectory();
        var events = new List<TransferEvent>();
        var result = await Images.SaveAsync(
            new SaveRequest { Images = [$"{env.Host}/test/app:1", $"{env.Host}/test/oci:1"], Output = dir.File("p.tar") },
            new SynchronousProgress(events.Add));

        Assert.IsType<ImageResolvedEvent>(events[0]);
        Assert.IsType<ImageResolvedEvent>(events[1]);
        var started = Assert.IsType<DownloadStartedEvent>(events[2]);
        var blobs = events.OfType<BlobCompletedEvent>().ToList();
        Assert.Equal(started.TotalBytes, blobs.Sum(b => b.Size));
        Assert.Equal(started.TotalBytes, blobs.Max(b => b.DoneBytes));
        Assert.Equal(started.TotalBytes, result.DownloadedBytes);
        Assert.Equal(new FileInfo(dir.File("p.tar")).Length, result.ArchiveBytes);
        Assert.Equal(env.Digests["test/app:1"], result.Images[0].Digest.ToString());
    }

    private sealed class SynchronousProgress(Action<TransferEvent> handler) : IProgress<TransferEvent>
    {
        private readonly Lock _gate = new();

        public void Report(TransferEvent value)
        {
            lock (_gate)
            {
                handler(value);
            }
        }
    }
}
