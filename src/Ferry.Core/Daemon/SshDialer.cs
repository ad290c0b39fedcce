using System.ComponentModel;
using System.Diagnostics;
using Ferry.Errors;

namespace Ferry.Daemon;

/// <summary>
/// Reaches a daemon over SSH exactly as the docker CLI does: <c>ssh -l USER -p PORT HOST -- docker system
/// dial-stdio</c>, with the user's own ssh config, keys and agent; the process's stdin/stdout carry the HTTP
/// connection. No SSH library.
/// </summary>
internal static class SshDialer
{
    public static ValueTask<Stream> ConnectAsync(Uri uri, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var start = new ProcessStartInfo("ssh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false, // ssh's own prompts and errors reach the user
            UseShellExecute = false,
        };
        foreach (var argument in Arguments(uri))
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            var process = Process.Start(start) ?? throw new DaemonException("ssh did not start");
            return ValueTask.FromResult<Stream>(new ProcessDuplexStream(process));
        }
        catch (Win32Exception ex)
        {
            throw new DaemonException($"cannot run ssh to reach {Redact(uri)}: {ex.Message} (install openssh-client)", ex);
        }
    }

    /// <summary>The ssh command line for a <c>ssh://[user@]host[:port]</c> address.</summary>
    public static IReadOnlyList<string> Arguments(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (uri.AbsolutePath is not ("" or "/"))
        {
            throw new InvalidInputException($"{Redact(uri)}: an ssh:// docker host takes no path");
        }

        var arguments = new List<string> { "-o", "ConnectTimeout=30" };
        if (uri.UserInfo is { Length: > 0 } user)
        {
            if (user.Contains(':', StringComparison.Ordinal))
            {
                throw new InvalidInputException($"{Redact(uri)}: put passwords in the ssh agent or config, not in the docker host");
            }

            arguments.AddRange(["-l", Uri.UnescapeDataString(user)]);
        }

        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            arguments.AddRange(["-p", uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        if (uri.Host.StartsWith('-'))
        {
            throw new InvalidInputException($"{Redact(uri)}: not a host name");
        }

        arguments.AddRange(["--", uri.Host, "docker", "system", "dial-stdio"]);
        return arguments;
    }

    private static string Redact(Uri uri) => $"ssh://{uri.Host}{(uri.IsDefaultPort ? string.Empty : ":" + uri.Port)}";

    /// <summary>A process's stdout (read) and stdin (write) as one stream; disposing it ends the process.</summary>
    private sealed class ProcessDuplexStream(Process process) : Stream
    {
        private readonly Stream _read = process.StandardOutput.BaseStream;
        private readonly Stream _write = process.StandardInput.BaseStream;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => _read.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _read.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _read.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _write.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _write.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _write.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _write.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _write.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                try
                {
                    _write.Dispose();
                    if (!process.WaitForExit(TimeSpan.FromSeconds(2)))
                    {
                        process.Kill(entireProcessTree: true);
                    }
                }
                catch (InvalidOperationException)
                {
                }

                process.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
