using System.CommandLine;
using System.Globalization;
using Ferry.Cli.Output;
using Ferry.Errors;

namespace Ferry.Cli.Commands;

/// <summary><c>ferry cache ls|prune</c>: what the blob cache holds, and keeping it bounded.</summary>
internal static class CacheCommand
{
    public static Command Create()
    {
        var command = new Command("cache", """
            List or prune the blob cache that 'save --cache DIR', 'copy --cache DIR' and 'inspect --cache DIR' share.

            The cache keeps every blob those commands fetched, verified, under DIR/blobs/sha256/; a later run takes
            blobs from it instead of the registry. Several runs may use one cache at once. It grows until pruned.

            Examples:
              ferry cache ls --cache ~/.cache/ferry
              FERRY_CACHE=~/.cache/ferry ferry cache prune --max-size 20GiB
            """)
        {
            CreateList(),
            CreatePrune(),
        };
        return command;
    }

    private static Command CreateList()
    {
        var cache = new CacheOption();
        var json = new Option<bool>("--json") { Description = "One JSON document instead of the table" };
        var command = new Command("ls", "List the cached blobs, most recently used first, and their total size") { cache.Option, json };
        command.SetAction(parseResult =>
        {
            try
            {
                var store = Open(cache, parseResult);
                var blobs = store.List();
                if (parseResult.GetValue(json))
                {
                    using (var stdout = Console.OpenStandardOutput())
                    using (var w = new System.Text.Json.Utf8JsonWriter(stdout, Oci.JsonFiles.Indented))
                    {
                        w.WriteStartObject();
                        w.WriteString("directory", store.Directory);
                        w.WriteNumber("bytes", blobs.Sum(b => b.Size));
                        w.WriteStartArray("blobs");
                        foreach (var blob in blobs)
                        {
                            w.WriteStartObject();
                            w.WriteString("digest", blob.Digest.ToString());
                            w.WriteNumber("size", blob.Size);
                            w.WriteString("lastUsed", blob.LastUsed.ToString("O", CultureInfo.InvariantCulture));
                            w.WriteEndObject();
                        }

                        w.WriteEndArray();
                        w.WriteEndObject();
                    }

                    Console.Out.WriteLine();
                    return ExitCodes.Success;
                }

                foreach (var blob in blobs)
                {
                    Console.Out.WriteLine($"{blob.Digest}  {Units.Bytes(blob.Size),10}  {blob.LastUsed.ToLocalTime():yyyy-MM-dd HH:mm}");
                }

                Console.Out.WriteLine($"{blobs.Count} blob(s), {Units.Bytes(blobs.Sum(b => b.Size))} in {store.Directory}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false, OutputMode.Text);
            }
        });
        return command;
    }

    private static Command CreatePrune()
    {
        var cache = new CacheOption();
        var maxSize = new Option<string>("--max-size") { Description = "Remove the least recently used blobs until the cache holds at most this much (20GiB, 500MB; 0 empties it)", Required = true };
        var command = new Command("prune", "Remove the least recently used blobs until the cache fits a size") { cache.Option, maxSize };
        command.SetAction(parseResult =>
        {
            try
            {
                var store = Open(cache, parseResult);
                var text = parseResult.GetValue(maxSize)!;
                var limit = text.Trim() == "0" ? 0 : Units.ParseSize(text, "--max-size");
                var result = store.Prune(limit);
                Console.Error.WriteLine($"ferry: removed {result.Removed.Count} blob(s), {Units.Bytes(result.RemovedBytes)}; the cache holds {Units.Bytes(result.KeptBytes)}");
                return ExitCodes.Success;
            }
            catch (Exception ex)
            {
                return ErrorPresenter.Present(ex, debug: false, OutputMode.Text);
            }
        });
        return command;
    }

    private static Caching.BlobCache Open(CacheOption cache, ParseResult parseResult)
    {
        var directory = cache.DirectoryOf(parseResult) ?? throw new InvalidInputException($"no cache given: --cache DIR or {CacheOption.EnvironmentVariable}");
        return Directory.Exists(directory) ? new Caching.BlobCache(directory) : throw new InvalidInputException($"the cache {directory} does not exist");
    }
}
