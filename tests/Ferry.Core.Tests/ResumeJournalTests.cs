using Ferry.Archives;
using Ferry.Oci;
using Ferry.References;
using Ferry.Saving;
using Ferry.Transfer;

namespace Ferry.Core.Tests;

/// <summary>The resume journal: what an earlier run left counts only as far as it can be read and matches the plan.</summary>
public sealed class ResumeJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ferry-resume-test-").FullName;

    private string Target => Path.Combine(_dir, "bundle.tar");

    [Fact]
    public async Task ASamePlan_ReusesTheFileInPlace_DoneAndPartialBlobsAsRecorded()
    {
        var (a, b) = (Blob(1, 3000), Blob(2, 5000));
        var plan = Plan(a, b);
        using (var first = ResumeJournal.Open(Target, plan)!)
        {
            Assert.Equal(0, first.EarlierBytes);
            await WriteBlobAsync(first, plan, a);
            first.Done(a.Descriptor.Digest, a.Descriptor.Size);
            first.Have(b.Descriptor.Digest, 1024);
            Assert.Equal(3000 + 1024, first.Keep());
        }

        using var second = ResumeJournal.Open(Target, plan)!;
        Assert.Equal(3000 + 1024, second.EarlierBytes);
        Assert.Equal(3000, second.EarlierOf(a.Descriptor.Digest));
        Assert.Equal(1024, second.EarlierOf(b.Descriptor.Digest));
        Assert.True(await second.HoldsAsync(a.Descriptor, Offset(plan, a), CancellationToken.None));
        Assert.False(await second.HoldsAsync(b.Descriptor, Offset(plan, b), CancellationToken.None));
    }

    [Fact]
    public async Task AChangedPlan_CopiesWhatStillMatches_ToItsNewOffset()
    {
        var (a, b, c) = (Blob(1, 3000), Blob(2, 5000), Blob(3, 700));
        var plan = Plan(a, b);
        using (var first = ResumeJournal.Open(Target, plan)!)
        {
            await WriteBlobAsync(first, plan, b);
            first.Done(b.Descriptor.Digest, b.Descriptor.Size);
            first.Keep();
        }

        var changed = Plan(c, b);
        Assert.NotEqual(Offset(plan, b), Offset(changed, b));
        using var second = ResumeJournal.Open(Target, changed)!;
        Assert.Equal(5000, second.EarlierBytes);
        Assert.True(await second.HoldsAsync(b.Descriptor, Offset(changed, b), CancellationToken.None));
        Assert.Equal(0, second.EarlierOf(a.Descriptor.Digest));
    }

    [Fact]
    public void ATornLastLine_AForeignJournal_OrAMissingDataFile_CountAsNothingLost()
    {
        var a = Blob(1, 3000);
        var plan = Plan(a);
        using (var first = ResumeJournal.Open(Target, plan)!)
        {
            first.Have(a.Descriptor.Digest, 2048);
            first.Keep();
        }

        var journal = ResumeJournal.PathsOf(Target).Journal;
        File.AppendAllText(journal, $"done {a.Descriptor.Digest}"); // torn by a kill: no newline
        using (var torn = ResumeJournal.Open(Target, plan)!)
        {
            Assert.Equal(2048, torn.EarlierOf(a.Descriptor.Digest));
            torn.Keep();
        }

        File.WriteAllText(journal, "something else entirely\n");
        using (var foreign = ResumeJournal.Open(Target, plan)!)
        {
            Assert.Equal(0, foreign.EarlierBytes);
            foreign.Have(a.Descriptor.Digest, 100);
            foreign.Keep();
        }

        File.Delete(ResumeJournal.PathsOf(Target).Data);
        using var missing = ResumeJournal.Open(Target, plan)!;
        Assert.Equal(0, missing.EarlierBytes);
    }

    [Fact]
    public void ASecondRunOnTheSameOutput_GetsNoJournal_AndNothingKeptLeavesNoFiles()
    {
        var plan = Plan(Blob(1, 100));
        using (var first = ResumeJournal.Open(Target, plan)!)
        {
            Assert.Null(ResumeJournal.Open(Target, plan));
            Assert.Equal(0, first.Keep());
        }

        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TransferBlob Blob(int seed, int size)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        return new TransferBlob(new Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Digest.Sha256Of(content), size), null, ImageReference.Parse("example.com/app:1"));
    }

    private static TarLayoutPlan Plan(params TransferBlob[] blobs) =>
        TarLayoutPlan.Create(new ImageLayout([.. blobs.OrderBy(b => b.Path, StringComparer.Ordinal)], "{}"u8.ToArray(), "[]"u8.ToArray()));

    private static long Offset(TarLayoutPlan plan, TransferBlob blob) => plan.Entries.Single(e => e.Blob?.Descriptor.Digest == blob.Descriptor.Digest).DataOffset;

    private static async Task WriteBlobAsync(ResumeJournal journal, TarLayoutPlan plan, TransferBlob blob)
    {
        var seed = blob.Descriptor.Size switch { 3000 => 1, 5000 => 2, _ => 3 };
        var content = new byte[blob.Descriptor.Size];
        new Random(seed).NextBytes(content);
        RandomAccess.SetLength(journal.Data, plan.Length);
        await RandomAccess.WriteAsync(journal.Data, content, Offset(plan, blob));
    }
}
