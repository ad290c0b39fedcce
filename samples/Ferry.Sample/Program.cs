// Saves images into an archive, then inspects and verifies it — through Ferry.Core's public API only.
//   dotnet run --project samples/Ferry.Sample -- OUTPUT.tar IMAGE [IMAGE...]
// Prints one line per progress event and "executed=true|false" (false: the archive was already up to date).
using Ferry;
using Ferry.Errors;
using Ferry.References;
using Ferry.Saving;
using Ferry.Transfer;

if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Ferry.Sample OUTPUT.tar IMAGE [IMAGE...]");
    return 2;
}

var progress = new InOrderProgress<TransferEvent>(e =>
{
    switch (e)
    {
        case ImageResolvedEvent resolved:
            Console.WriteLine($"resolved {resolved.Image.Reference} {resolved.Image.Digest}");
            break;
        case DownloadStartedEvent started:
            Console.WriteLine($"downloading {started.Blobs} blobs, {started.TotalBytes} bytes");
            break;
        case BytesTransferredEvent bytes:
            Console.WriteLine($"bytes {bytes.Bytes}");
            break;
        case ImageWrittenEvent saved:
            Console.WriteLine($"saved {saved.Image.Reference} {saved.Image.Bytes}");
            break;
    }
});

try
{
    var result = await Images.SaveAsync(new SaveRequest { Images = args[1..], Output = args[0], Platforms = PlatformSelection.All }, progress);
    Console.WriteLine($"executed={result.Executed.ToString().ToLowerInvariant()} archive={result.ArchiveBytes} downloaded={result.DownloadedBytes}");
    var inspected = await Images.InspectAsync(args[0]);
    foreach (var image in inspected.Images)
    {
        Console.WriteLine($"contains {image.Name} {image.Digest} {string.Join(',', image.Platforms)}");
    }

    var verified = await Images.VerifyAsync(args[0]);
    Console.WriteLine(verified.IsValid ? "verified" : "NOT valid: " + string.Join("; ", verified.Problems));
    return verified.IsValid ? 0 : 1;
}
catch (FerryException ex)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}
