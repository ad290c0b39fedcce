namespace Ferry.Cli.Output;

/// <summary>How a run that pushes images (load, copy) ends: its summary (a line, or a JSON object) and its exit code.</summary>
internal static class RunOutcome
{
    /// <summary>
    /// Reports one image pushed by load or copy: <c>target&lt;TAB&gt;digest</c> on stdout (for scripts), and a JSON object or
    /// a line on stderr.
    /// </summary>
    /// <param name="eventName"><c>image-loaded</c> or <c>image-copied</c>.</param>
    /// <param name="image">What was pushed.</param>
    /// <param name="mode">JSON or text, quiet or not.</param>
    public static void Pushed(string eventName, Loading.LoadedImage image, OutputMode mode)
    {
        Console.Out.WriteLine($"{image.Target}\t{image.Digest}");
        if (mode.Json)
        {
            JsonLines.Write(eventName, w =>
            {
                w.WriteString("source", image.Source);
                w.WriteString("target", image.Target.ToString());
                w.WriteString("digest", image.Digest.ToString());
                w.WriteBoolean("builtFromLayers", image.BuiltFromLayers);
                w.WriteNumber("uploaded", image.Uploaded);
                w.WriteNumber("mounted", image.Mounted);
                w.WriteNumber("existing", image.Existing);
                w.WriteNumber("uploadedBytes", image.UploadedBytes);
            });
        }
        else if (!mode.Quiet)
        {
            Console.Error.WriteLine($"ferry: {TerminalText.Escape(image.Source)} -> {At(image.Target, image.Digest)}{(image.BuiltFromLayers ? " (manifest built from the archive's layers)" : string.Empty)}: {image.Uploaded} uploaded ({Units.Bytes(image.UploadedBytes)}), {image.Mounted} mounted, {image.Existing} already there");
        }
    }

    /// <summary>One image written into an archive or sent to an Engine: its name and digest on stdout, a line on stderr.</summary>
    /// <param name="eventName">The JSON event's name.</param>
    /// <param name="image">The image.</param>
    /// <param name="mode">JSON or text, quiet or not.</param>
    public static void Written(string eventName, Ferry.Transfer.SavedImage image, OutputMode mode)
    {
        Console.Out.WriteLine($"{image.Reference}\t{image.Digest}");
        if (mode.Json)
        {
            JsonLines.Write(eventName, w =>
            {
                w.WriteString("target", image.Reference.ToString());
                w.WriteString("digest", image.Digest.ToString());
                w.WriteNumber("bytes", image.Bytes);
            });
        }
        else if (!mode.Quiet)
        {
            Console.Error.WriteLine($"ferry: {At(image.Reference, image.Digest)} [{string.Join(", ", image.Platforms)}] {Units.Bytes(image.Bytes)}");
        }
    }

    /// <summary>
    /// One image the destination already held at the source's digest (skipped): its name and digest on stdout as for
    /// one pushed, so a script's list stays whole; a JSON object or a line on stderr.
    /// </summary>
    /// <param name="image">The image.</param>
    /// <param name="mode">JSON or text, quiet or not.</param>
    public static void Unchanged(Transfer.UnchangedImage image, OutputMode mode)
    {
        Console.Out.WriteLine($"{image.Name}\t{image.Digest}");
        if (mode.Json)
        {
            JsonLines.Write("image-unchanged", w =>
            {
                w.WriteString("source", image.Image);
                w.WriteString("target", image.Name.ToString());
                w.WriteString("digest", image.Digest.ToString());
            });
        }
        else if (!mode.Quiet)
        {
            Console.Error.WriteLine($"ferry: {TerminalText.Escape(image.Image)} -> {At(image.Name, image.Digest)}: unchanged (already there)");
        }
    }

    /// <summary><c>name:tag@sha256:0123456789ab</c>; a name that holds its digest already is not given a second one.</summary>
    private static string At(References.ImageReference name, References.Digest digest) =>
        name.Digest is null ? $"{name}@{digest.Short}" : name.ToString();

    /// <summary>0 when everything was done, 2 when some images failed, 1 when none was done.</summary>
    /// <param name="done">Images done (or already there).</param>
    /// <param name="failed">Images that failed.</param>
    /// <returns>The exit code.</returns>
    public static int ExitCode(int done, int failed) => done == 0 ? ExitCodes.Failure : failed > 0 ? ExitCodes.PartialFailure : ExitCodes.Success;

    /// <summary>Reports the end of a load or copy and returns the exit code.</summary>
    /// <param name="verb"><c>loaded</c> or <c>copied</c>.</param>
    /// <param name="done">Images pushed.</param>
    /// <param name="failed">Images that failed.</param>
    /// <param name="bytes">Bytes uploaded.</param>
    /// <param name="target">Where they went.</param>
    /// <param name="failedWhere">Where the failed list went (or why it did not).</param>
    /// <param name="mode">JSON or text, quiet or not.</param>
    /// <param name="unchanged">Images the destination already held at the source's digest, skipped.</param>
    /// <returns>The exit code: an image already there counts as done.</returns>
    public static int Report(string verb, int done, int failed, long bytes, string target, string failedWhere, OutputMode mode, int unchanged = 0)
    {
        var same = unchanged > 0 ? $"; {unchanged} unchanged" : string.Empty;
        if (mode.Json)
        {
            JsonLines.Write("summary", w =>
            {
                w.WriteNumber("images", done);
                w.WriteNumber("unchanged", unchanged);
                w.WriteNumber("failed", failed);
                w.WriteNumber("uploadedBytes", bytes);
                w.WriteString("target", target);
            });
        }
        else if (done == 0 && unchanged == 0)
        {
            ErrorPresenter.WriteError($"nothing {verb}: all {failed} image(s) failed{(failed > 0 ? $" ({failedWhere})" : string.Empty)}", mode);
        }
        else if (failed > 0)
        {
            Console.Error.WriteLine($"ferry: {verb} {done} image(s) ({Units.Bytes(bytes)} uploaded) to {target}{same}; {failed} failed, {failedWhere}");
        }
        else if (!mode.Quiet)
        {
            Console.Error.WriteLine(done == 0
                ? $"ferry: nothing to do: all {unchanged} image(s) unchanged at {target}"
                : $"ferry: {verb} {done} image(s) to {target}, {Units.Bytes(bytes)} uploaded{same}");
        }

        return ExitCode(done + unchanged, failed);
    }
}
