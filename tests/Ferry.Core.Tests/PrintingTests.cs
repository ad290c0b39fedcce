using System.Reflection;
using System.Runtime.CompilerServices;
using Ferry.Copying;
using Ferry.Loading;
using Ferry.References;
using Ferry.Transfer;

namespace Ferry.Core.Tests;

/// <summary>Results, reports and events print what they hold (issue #27): a list is written out, never <c>List`1</c>.</summary>
public sealed class PrintingTests
{
    [Fact]
    public void EveryResultReportAndEventWithAList_PrintsItsItems()
    {
        var records = typeof(Images).Assembly.GetExportedTypes()
            .Where(t => t.GetMethod("<Clone>$") is not null && (t.Name.EndsWith("Result", StringComparison.Ordinal) || t.Name.EndsWith("Report", StringComparison.Ordinal) || t.Name.EndsWith("Event", StringComparison.Ordinal) || t.Name.StartsWith("TransferResult", StringComparison.Ordinal)))
            .ToList();
        Assert.True(records.Count > 20, $"only {records.Count} records found");
        var printingLists = records.Where(t => t.GetProperties().Any(p => p.PropertyType != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(p.PropertyType)));
        // A record's PrintMembers (declared by every record) is the compiler's unless written by hand; so is ToString.
        static bool Generated(MethodInfo? method) => method is null || method.IsDefined(typeof(CompilerGeneratedAttribute), inherit: false);
        var generated = printingLists
            .Where(t => Generated(t.GetMethod("PrintMembers", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)) &&
                        Generated(t.GetMethod("ToString", BindingFlags.Instance | BindingFlags.Public | BindingFlags.DeclaredOnly, Type.EmptyTypes)))
            .Select(t => t.Name)
            .ToList();
        Assert.True(generated.Count == 0, "print List`1 for their lists: " + string.Join(", ", generated));
    }

    [Fact]
    public void ALoadAndACopy_PrintTheirImages()
    {
        var digest = Digest.Sha256Of("x"u8);
        var loaded = new LoadedImage("app.tar", ImageReference.Parse("registry.example.com/app:1"), digest, false, 1, 0, 0, 10);
        var load = new LoadResult([loaded], []) { Unchanged = [new UnchangedImage("b.tar", 2, ImageReference.Parse("registry.example.com/b:1"), digest)] };
        Assert.Contains("registry.example.com/app:1", load.ToString(), StringComparison.Ordinal);
        Assert.Contains("registry.example.com/b:1", load.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("`1", load.ToString(), StringComparison.Ordinal);
        var copy = new CopyResult([loaded], [new FailedImage("missing:1", 2, "not found")]);
        Assert.Contains("not found", copy.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("`1", copy.ToString(), StringComparison.Ordinal);
    }
}
