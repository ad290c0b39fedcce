using Ferry.Archives;
using Ferry.Archives.Compression;
using Ferry.Errors;
using Ferry.Saving;
using Microsoft.Win32.SafeHandles;

namespace Ferry.Transfer.Sinks;

/// <summary>What an archive sink wrote.</summary>
/// <param name="Images">The images as recorded (for an up-to-date archive: as the archive describes them).</param>
/// <param name="ArchiveBytes">The size of the archive (tar) or of its blobs (directory).</param>
/// <param name="Output">The path written, or <see langword="null"/> for a stream.</param>
public sealed record ArchiveReport(IReadOnlyList<SavedImage> Images, long ArchiveBytes, string? Output) : SinkReport
{
    /// <summary>The parts of a split archive, in order (empty when it is one file).</summary>
    public IReadOnlyList<string> Parts { get; init; } = [];

    /// <summary>The members, lists written out (not their type names).</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <returns><see langword="true"/>.</returns>
    protected override bool PrintMembers(System.Text.StringBuilder builder) =>
        Diagnostics.Printed.Members(builder, (nameof(Images), Images), (nameof(ArchiveBytes), ArchiveBytes), (nameof(Output), Output), (nameof(Parts), Parts), (nameof(Failed), Failed));
}

/// <summary>Where and how an archive is written.</summary>
public sealed record ArchiveTarget
{
    /// <summary>The output path (file or directory); ignored when <see cref="Stream"/> is set.</summary>
    public string? Path { get; init; }

    /// <summary>A forward-only stream to write the tar to (stdout, a pipe) instead of a file.</summary>
    public Stream? Stream { get; init; }

    /// <summary>Tar or directory.</summary>
    public ArchiveFormat Format { get; init; } = ArchiveFormat.Tar;

    /// <summary>Compression of the whole archive (tar only).</summary>
    public OuterCompression Compression { get; init; }

    /// <summary>
    /// Split the archive into parts of at most this many bytes: <c>PATH.000</c>, <c>PATH.001</c>, …, byte ranges of
    /// the one archive (so <c>cat</c> restores it). A tar file output only.
    /// </summary>
    public long? SplitSize { get; init; }

    /// <summary>
    /// Continue an interrupted write of the same tar file and keep a failed one's blobs for the next run
    /// (<see cref="Ferry.Archives.ResumeJournal"/>); <see langword="false"/>: start from nothing, leave nothing.
    /// </summary>
    public bool Resume { get; init; }

    /// <summary>Signs the archive's <c>index.json</c>; the signature is stored beside it as <c>index.json.sig</c> (<see cref="Signing.BundleSignature"/>).</summary>
    public Signing.SigningKey? SignKey { get; init; }
}

/// <summary>
/// Writes Ferry's archive — an OCI image layout that is also a docker-archive — as a tar file, a tar stream or a
/// directory, optionally gzip/zstd-compressed. For a file the whole layout is planned first (every offset known), the
/// file is sized up front and blobs are written straight to their places, in parallel and in any order; for a
/// stream the entries go out in order. The output appears atomically (temporary name, fsync, rename); a failure or
/// cancellation leaves any earlier file untouched and nothing half-written. An output that already holds exactly the
/// requested images is left alone ("up to date").
/// </summary>
public sealed class ArchiveSink : IAppendingSink, IImageSink<ArchiveReport>
{
    private readonly ArchiveTarget _target;
    private readonly AtomicOutput? _output;
    private readonly string? _device;
    private TarAppendWriter? _appender;

    /// <summary>Creates the sink (the output directory must exist).</summary>
    /// <param name="target">Where and how.</param>
    /// <exception cref="InvalidInputException">The combination is impossible (a compressed directory, a directory on a stream).</exception>
    /// <exception cref="OutputException">The output's directory does not exist.</exception>
    public ArchiveSink(ArchiveTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (target.Stream is null && string.IsNullOrEmpty(target.Path))
        {
            throw new InvalidInputException("no output given");
        }

        if (target.Stream is not null && target.Format == ArchiveFormat.Directory)
        {
            throw new InvalidInputException("a directory layout cannot be written to a stream");
        }

        if (target.Format == ArchiveFormat.Directory && target.Compression != OuterCompression.None)
        {
            throw new InvalidInputException("a directory layout cannot be compressed");
        }

        if (target.SplitSize is { } split && (split < MinSplitSize || target.Stream is not null || target.Format == ArchiveFormat.Directory || AtomicOutput.IsStream(target.Path!)))
        {
            throw new InvalidInputException(split < MinSplitSize
                ? $"a split size (SplitSize) of {split} bytes is too small; parts are at least {MinSplitSize} bytes"
                : "splitting (SplitSize) needs a tar file as the output, not a stream, a device or a directory");
        }

        if (target.Stream is null && target.Format == ArchiveFormat.Tar && (target.Path!.EndsWith('/') || Directory.Exists(target.Path)))
        {
            // Said before anything is downloaded, not when the finished archive cannot be renamed into place.
            throw new InvalidInputException($"{target.Path} is a directory: name the archive file inside it ({Path.Combine(target.Path, "bundle.tar")}), or write a layout directory (Format: Directory)");
        }

        _target = target;
        if (target.Stream is null && AtomicOutput.IsStream(target.Path!))
        {
            // A FIFO or a device (/dev/stdout, a named pipe): written to as a stream, never renamed over.
            if (target.Format == ArchiveFormat.Directory)
            {
                throw new InvalidInputException($"a directory layout cannot be written to {target.Path}: it is a device or a pipe");
            }

            _device = target.Path!; // opened by name: the kernel follows /dev/stdout to the pipe it is
        }
        else
        {
            _output = target.Stream is null ? AtomicOutput.Prepare(target.Path!) : null;
        }
    }

    /// <summary>The smallest part a split archive may have.</summary>
    public const long MinSplitSize = 64 * 1024;

    /// <inheritdoc />
    public bool AcceptsPartial => true;

    /// <inheritdoc />
    public bool CanAppend => _output is not null && _target.Format == ArchiveFormat.Tar && _target.Compression == OuterCompression.None && _target.SplitSize is null;

    /// <inheritdoc />
    public async Task<SinkReport?> CheckUpToDateAsync(TransferRequest request, Func<string, CancellationToken, Task<ImageIdentity?>> peek, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_output is null || _target.SplitSize is not null)
        {
            return null; // a split archive is always written again
        }

        return await UpToDate.CheckAsync(_output.Target, request, _target.Format, _target.Compression, peek, cancellationToken).ConfigureAwait(false) is { } upToDate
            ? new ArchiveReport(upToDate.Images, upToDate.Bytes, _output.Target)
            : null;
    }

    /// <inheritdoc />
    public async Task<SinkReport> WriteAsync(TransferPlan plan, TransferContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(context);
        var layout = LayoutBuilder.Build(plan, _target.SignKey);
        var tar = TarLayoutPlan.Create(layout);
        var writers = LayoutWriteContext.For(context);
        var saved = plan.Images.Select(p => TransferEngine.Describe(p.Image)).ToList();
        if (_output is null)
        {
            var device = _device is null ? null : await OpenDeviceAsync(_device, cancellationToken).ConfigureAwait(false);
            try
            {
                return new ArchiveReport(saved, await WriteToStreamAsync(tar, device ?? _target.Stream!, writers, cancellationToken).ConfigureAwait(false), _device);
            }
            catch (IOException ex)
            {
                // A pipe whose reader went away (EPIPE), a full disk behind a redirect: the archive is not whole.
                throw new OutputException($"cannot write the archive to {_device ?? "the output stream"}: {ex.Message}; the archive is incomplete", ex);
            }
            finally
            {
                if (device is not null)
                {
                    await device.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        if (_target.SplitSize is not null || _target.Format == ArchiveFormat.Directory)
        {
            // Every size is known before the first byte: a disk that cannot take them is named now, not when it is full.
            Content.DiskSpace.Require(tar.Length, _output.Target, _output.Target);
        }

        if (_target.SplitSize is { } partSize)
        {
            var parts = new SplitOutput(_output.Target, partSize);
            try
            {
                var bytes = await WriteSplitAsync(tar, parts, writers, cancellationToken).ConfigureAwait(false);
                return new ArchiveReport(saved, bytes, parts.Committed[0]) { Parts = parts.Committed };
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                parts.Abandon();
                throw new OutputException(Content.DiskSpace.IsFull(ex)
                    ? $"the disk filled while writing {_output.Target}.NNN: {Content.DiskSpace.Needs(tar.Length, _output.Target)}; the parts were removed"
                    : $"cannot write {_output.Target}.NNN: {ex.Message}", ex);
            }
            catch
            {
                parts.Abandon();
                throw;
            }
        }

        try
        {
            var bytes = await WriteToFileAsync(layout, tar, _output, writers, context, cancellationToken).ConfigureAwait(false);
            return new ArchiveReport(saved, bytes, _output.Target);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _output.Abandon();
            throw new OutputException(Content.DiskSpace.IsFull(ex)
                ? $"the disk filled while writing {_output.Target}: {Content.DiskSpace.Needs(tar.Length, _output.Target)}"
                : $"cannot write {_output.Target}: {ex.Message}", ex);
        }
        catch
        {
            _output.Abandon();
            throw;
        }
    }

    /// <inheritdoc />
    public IBlobAppender BeginAppend()
    {
        if (!CanAppend)
        {
            throw new InvalidOperationException("this archive cannot take appended blobs");
        }

        _appender = new TarAppendWriter(_output!.Temporary);
        return new OutputErrors(_appender, _output.Target);
    }

    /// <inheritdoc />
    public async Task<SinkReport> FinishAppendAsync(TransferPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        try
        {
            await _appender!.FinishAsync(LayoutBuilder.Build(plan, _target.SignKey), cancellationToken).ConfigureAwait(false);
            await _appender.DisposeAsync().ConfigureAwait(false);
            _output!.CommitFile();
        }
        catch (IOException ex) when (ex is not EndOfStreamException)
        {
            throw new OutputException($"cannot write {_output!.Target}: {ex.Message}", ex);
        }

        var saved = plan.Images.Select(p => TransferEngine.Describe(p.Image) with { Platforms = [p.Image.Primary.Platform] }).ToList();
        return new ArchiveReport(saved, new FileInfo(_output.Target).Length, _output.Target);
    }

    /// <inheritdoc />
    public void AbandonAppend()
    {
        _appender?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _output?.Abandon();
    }

    /// <summary>Opens a FIFO or device for writing; opening a FIFO waits for its reader, and Ctrl-C still ends the wait.</summary>
    private static async Task<Stream> OpenDeviceAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await Task.Run(() => (Stream)new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 0), CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OutputException($"cannot write {path}: {ex.Message}", ex);
        }
    }

    private async Task<long> WriteToStreamAsync(TarLayoutPlan plan, Stream stream, LayoutWriteContext context, CancellationToken cancellationToken) =>
        await WriteCompressedAsync(stream, null, async target =>
        {
            await TarStreamWriter.WriteAsync(plan, target, context, cancellationToken).ConfigureAwait(false);
            return plan.Length;
        }, cancellationToken).ConfigureAwait(false);

    private async Task<long> WriteToFileAsync(ImageLayout layout, TarLayoutPlan plan, AtomicOutput output, LayoutWriteContext writers, TransferContext context, CancellationToken cancellationToken)
    {
        if (_target.Format == ArchiveFormat.Directory)
        {
            Directory.CreateDirectory(output.Temporary);
            await DirectoryLayoutWriter.WriteAsync(layout, output.Temporary, writers, cancellationToken).ConfigureAwait(false);
            output.CommitDirectory();
            return layout.BlobBytes;
        }

        if (!_target.Resume && ResumeJournal.Discard(output.Target) is { } leftAlone)
        {
            context.Report(new OutputWarningEvent(leftAlone));
        }

        // The tar is written with parallel positional writes (resumable: into the journalled file beside the target);
        // compression then streams it once more, on all cores, into the final file.
        using var journal = _target.Resume ? OpenJournal(output.Target, plan, context) : null;
        try
        {
            // The tar needs its whole length (less what an earlier run left); compressing needs room for the result too,
            // which is not known before: that phase is checked when it fails.
            Content.DiskSpace.Require(plan.Length - (journal?.EarlierBytes ?? 0), output.Target, output.Target);
        }
        catch
        {
            journal?.Keep();
            throw;
        }

        var tarPath = journal?.DataPath ?? (_target.Compression == OuterCompression.None ? output.Temporary : output.Temporary + ".tar");
        try
        {
            if (journal is not null)
            {
                if (journal.EarlierBytes > 0)
                {
                    context.Report(new ResumingEvent(journal.DataPath, journal.EarlierBytes));
                }

                await TarFileWriter.WriteAsync(plan, journal.Data, writers, cancellationToken, journal).ConfigureAwait(false);
            }
            else
            {
                using var file = File.OpenHandle(tarPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
                await TarFileWriter.WriteAsync(plan, file, writers, cancellationToken).ConfigureAwait(false);
            }

            if (_target.Compression != OuterCompression.None)
            {
                // Read back through a handle that cannot be redirected (the journal's: the very file just written).
                var readBack = journal?.OpenDataForReading() ?? Content.PosixFiles.OpenRegular(tarPath, create: false, writable: false);
                await using var source = new FileStream(readBack, FileAccess.Read, 1 << 20);
                await using var target = new FileStream(output.Temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
                await WriteCompressedAsync(target, _target.Compression, async compressed =>
                {
                    await source.CopyToAsync(compressed, 1 << 20, cancellationToken).ConfigureAwait(false);
                    return 0;
                }, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                journal?.MoveDataTo(output.Temporary);
            }

            output.CommitFile();
            journal?.Finish();
        }
        catch (Exception ex) when (journal is not null)
        {
            // Resume data is kept only when it can help: a disk too small for the whole archive will never take it.
            var hopeless = Content.DiskSpace.IsFull(ex) && Content.DiskSpace.Of(output.Target) is { } space && plan.Length > space.Total;
            if (hopeless)
            {
                journal.Drop();
            }
            else if (journal.Keep() is > 0 and var kept)
            {
                context.Report(new ResumeKeptEvent(journal.DataPath, kept));
            }

            throw;
        }
        finally
        {
            if (journal is null && tarPath != output.Temporary && File.Exists(tarPath))
            {
                File.Delete(tarPath);
            }
        }

        return new FileInfo(output.Target).Length;
    }

    /// <summary>
    /// The resume state beside the output, or <see langword="null"/> when it cannot be used safely: something other than
    /// a regular file of this user's at one of its names (a planted link, a directory, a FIFO) is left alone and named,
    /// and the save goes on without resume.
    /// </summary>
    private static ResumeJournal? OpenJournal(string target, TarLayoutPlan plan, TransferContext context)
    {
        try
        {
            return ResumeJournal.Open(target, plan);
        }
        catch (Content.UnsafePathException ex)
        {
            context.Report(new OutputWarningEvent($"{ex.Message}; left alone, this save goes without resume"));
            return null;
        }
    }

    /// <summary>
    /// A split archive: uncompressed, the parts are sized up front and written in place like one file (each byte once);
    /// compressed, the tar is written to one temporary file and compressed into parts cut as they fill.
    /// </summary>
    private async Task<long> WriteSplitAsync(TarLayoutPlan plan, SplitOutput parts, LayoutWriteContext context, CancellationToken cancellationToken)
    {
        if (_target.Compression == OuterCompression.None)
        {
            var count = (int)Math.Max(1, (plan.Length + parts.PartSize - 1) / parts.PartSize);
            var handles = Enumerable.Range(0, count).Select(parts.Create).ToList();
            try
            {
                await TarFileWriter.WriteAsync(plan, PositionalFile.Split(handles, parts.PartSize), context, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                foreach (var handle in handles)
                {
                    handle.Dispose();
                }
            }
        }
        else
        {
            var tarPath = Path.Combine(Path.GetDirectoryName(parts.Target)!, Content.Debris.TemporaryName(parts.Target + ".tar"));
            try
            {
                using (var file = File.OpenHandle(tarPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None))
                {
                    await TarFileWriter.WriteAsync(plan, file, context, cancellationToken).ConfigureAwait(false);
                }

                await using var source = new FileStream(tarPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
                await using var target = new SplitWriteStream(parts);
                await WriteCompressedAsync(target, _target.Compression, async compressed =>
                {
                    await source.CopyToAsync(compressed, 1 << 20, cancellationToken).ConfigureAwait(false);
                    return 0;
                }, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                File.Delete(tarPath);
            }
        }

        parts.Commit();
        return parts.Committed.Sum(p => new FileInfo(p).Length);
    }

    /// <summary>Runs <paramref name="write"/> into <paramref name="destination"/>, through the parallel compressor when compressing; returns the bytes that reached it.</summary>
    private async Task<long> WriteCompressedAsync(Stream destination, OuterCompression? compression, Func<Stream, Task<long>> write, CancellationToken cancellationToken)
    {
        var outer = compression ?? _target.Compression;
        if (outer == OuterCompression.None)
        {
            return await write(destination).ConfigureAwait(false);
        }

        await using var compressor = new ParallelBlockCompressor(destination, outer);
        await write(compressor).ConfigureAwait(false);
        await compressor.CompleteAsync(cancellationToken).ConfigureAwait(false);
        return compressor.CompressedBytes;
    }

    /// <summary>A failed write to the output file is the output's failure, named with its path.</summary>
    private sealed class OutputErrors(IBlobAppender inner, string target) : IBlobAppender
    {
        public async Task<Reading.HashedBlob> AppendAsync(Stream data, long length, bool compress, References.Digest? expected, CancellationToken cancellationToken)
        {
            try
            {
                return await inner.AppendAsync(data, length, compress, expected, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException ex) when (ex is not EndOfStreamException)
            {
                throw new OutputException($"cannot write {target}: {ex.Message}", ex);
            }
        }
    }
}
