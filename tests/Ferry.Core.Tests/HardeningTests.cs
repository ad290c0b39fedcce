using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Text;
using Ferry.Errors;
using Ferry.Inspecting;
using Ferry.Oci;
using Ferry.Reading;
using Ferry.References;
using Ferry.Registry;
using Ferry.Registry.Transport;

namespace Ferry.Core.Tests;

/// <summary>
/// Issue #14's classes at the unit level: requests Ferry must not send (local names), timeouts, absurd sizes,
/// bounded archives, a sane decompression limit, secrets in addresses, debris of killed runs. Hostile servers are
/// scripted handlers here; the real registry and daemon are in the integration tests.
/// </summary>
public sealed class HardeningTests : IDisposable
{
    private const string Blob = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    private readonly string _dir = Directory.CreateTempSubdirectory("ferry-hardening-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("metadata.localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("nosuchname.invalid", false)]
    public async Task ForbiddenTargets_AreJudgedAfterNameResolution(string host, bool forbidden)
    {
        Assert.Equal(forbidden, await HostRules.IsForbiddenTargetAsync(host, allowLocal: false, CancellationToken.None));
        Assert.Equal(host == "169.254.169.254", await HostRules.IsForbiddenTargetAsync(host, allowLocal: true, CancellationToken.None));
    }

    [Theory]
    [InlineData("https://localhost:9/blob")]
    [InlineData("https://storage.localhost/blob")]
    public async Task BlobRedirectToALocalName_IsRefused(string location)
    {
        var handler = new ScriptedHandler((request, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.TemporaryRedirect);
            response.Headers.Location = new Uri(location);
            return response;
        });
        using var client = new RegistryClient(handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.OpenBlobAsync(ImageReference.Parse("registry.test/team/app:1"), new Descriptor("x", Digest.Parse(Blob), 3)));
        Assert.Contains("internal address", ex.Message, StringComparison.Ordinal);
        Assert.Single(handler.Requests);
    }

    /// <summary>A referrers list that pages to another origin (#17): the next page is not followed there.</summary>
    [Fact]
    public async Task AReferrersPageOnAnotherOrigin_IsRefused()
    {
        var handler = new ScriptedHandler((request, _) =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK)
            {
                Content = new StringContent("""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}""", System.Text.Encoding.UTF8, "application/vnd.oci.image.index.v1+json"),
            };
            response.Headers.TryAddWithoutValidation("Link", "<https://elsewhere.test/v2/team/app/referrers/x?last=1>; rel=\"next\"");
            return response;
        });
        using var client = new RegistryClient(handler: handler);
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.ListReferrersAsync(ImageReference.Parse("registry.test/team/app:1"), Digest.Parse(Blob)));
        Assert.Contains("another origin", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(handler.Requests, r => r.Uri.Host == "elsewhere.test");
    }

    /// <summary>
    /// A repository's tag listing is shared by the run's images; when the image that started it fails (its discovery is
    /// cancelled), the next image of that repository lists the tags again instead of inheriting the cancellation.
    /// </summary>
    [Fact]
    public async Task ATagListingCancelledForOneImage_IsStartedAgainForTheNext()
    {
        using var listing = new ManualResetEventSlim();
        var handler = new ScriptedHandler((request, _) =>
        {
            var path = request.RequestUri!.AbsolutePath;
            if (path.EndsWith("/tags/list", StringComparison.Ordinal))
            {
                listing.Wait(TimeSpan.FromSeconds(5));
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""{"name":"team/app","tags":["1"]}""") };
            }

            return ScriptedHandler.Status(path == "/v2/" ? HttpStatusCode.OK : HttpStatusCode.NotFound);
        });
        using var client = new RegistryClient(handler: handler);
        var discovery = new Ferry.Registry.ReferrerDiscovery(client);
        var repository = ImageReference.Parse("registry.test/team/app:1");
        using var failing = new CancellationTokenSource();
        var first = discovery.DiscoverAsync(repository, [Digest.Sha256Of("one"u8)], failing.Token);
        while (!handler.Requests.Any(r => r.Uri.AbsolutePath.EndsWith("/tags/list", StringComparison.Ordinal)))
        {
            await Task.Delay(10);
        }

        var second = discovery.DiscoverAsync(repository, [Digest.Sha256Of("two"u8)], CancellationToken.None);
        await failing.CancelAsync();
        listing.Set();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Empty(await second);
        Assert.Equal(2, handler.Requests.Count(r => r.Uri.AbsolutePath.EndsWith("/tags/list", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task RegistrySilentBeforeAnswering_FailsAfterTheIdleTimeoutNamingTheHost()
    {
        using var client = new RegistryClient(options: new RegistryClientOptions { IdleTimeout = TimeSpan.FromMilliseconds(300), Retries = 1, RetryDelay = TimeSpan.FromMilliseconds(10) }, handler: new SilentHandler());
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<RegistryException>(() => client.GetManifestAsync(ImageReference.Parse("registry.test/team/app:1"), "1"));
        Assert.Contains("registry registry.test sent nothing for", ex.Message, StringComparison.Ordinal);
        Assert.Contains("after 2 attempts", ex.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.5, 10);
    }

    [Fact]
    public async Task RegistrySilentMidBlob_IsResumedThenFailsClearly()
    {
        var handler = new ScriptedHandler((_, _) => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StallingContent(1000, 400) });
        using var client = new RegistryClient(options: new RegistryClientOptions { IdleTimeout = TimeSpan.FromMilliseconds(200), MaxResumeAttempts = 2, RetryDelay = TimeSpan.FromMilliseconds(10) }, handler: handler);
        await using var stream = await client.OpenBlobAsync(ImageReference.Parse("registry.test/team/app:1"), new Descriptor("x", Digest.Parse(Blob), 1000));
        var ex = await Assert.ThrowsAsync<RegistryException>(() => stream.CopyToAsync(Stream.Null));
        Assert.Contains("sent no data for", ex.Message, StringComparison.Ordinal);
        Assert.True(handler.Requests.Count >= 2, "the stalled download was not resumed");
    }

    [Fact]
    public void AbsurdBlobSizeInAManifest_IsOneClearLine()
    {
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{Blob}}","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{Blob}}","size":4611686018427387904}]}""");
        var ex = Assert.Throws<InvalidInputException>(() => ManifestDocument.Parse(manifest, null, "hostile"));
        Assert.Contains("more than any real blob", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Base256TarSizeNear2To63_IsRefusedWithOneLine()
    {
        var header = new byte[512];
        Encoding.ASCII.GetBytes("huge").CopyTo(header, 0);
        Encoding.ASCII.GetBytes("0000644\0").CopyTo(header, 100);
        header[124] = 0x80;
        for (var i = 125; i < 136; i++)
        {
            header[i] = 0xff;
        }

        header[156] = (byte)'0';
        Encoding.ASCII.GetBytes("ustar\0" + "00").CopyTo(header, 257);
        "        "u8.CopyTo(header.AsSpan(148));
        Encoding.ASCII.GetBytes(Convert.ToString(header.Sum(b => (long)b), 8).PadLeft(6, '0') + "\0 ").CopyTo(header, 148);
        var path = Path.Combine(_dir, "huge.tar");
        await File.WriteAllBytesAsync(path, [.. header, .. new byte[1024]]);
        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
        Assert.Contains("impossible size", ex.Message, StringComparison.Ordinal);
        Assert.False((await ArchiveVerifier.VerifyAsync(path)).IsValid);
    }

    [Fact]
    public async Task MoreMembersThanTheLimit_IsRefusedByEveryReaderAlike()
    {
        var path = Path.Combine(_dir, "many.tar");
        await using (var file = File.Create(path))
        await using (var writer = new TarWriter(file, TarEntryFormat.Ustar))
        {
            for (var i = 0; i <= ArchiveFile.MaxMembers; i++)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"f{i}"));
            }
        }

        var ex = await Assert.ThrowsAsync<InvalidInputException>(() => ArchiveFile.OpenAsync(path));
        Assert.Contains($"more than {ArchiveFile.MaxMembers} members", ex.Message, StringComparison.Ordinal);
        var verified = await ArchiveVerifier.VerifyAsync(path);
        Assert.Contains($"more than {ArchiveFile.MaxMembers} members", Assert.Single(verified.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ZeroHeavyGzipArchive_IsAccepted()
    {
        // A legitimate archive whose member is mostly zeros (docker save | gzip of a sparse layer): gzip's ratio stays under the limit.
        var legit = Path.Combine(_dir, "zeros.tar.gz");
        await using (var file = File.Create(legit))
        await using (var gzip = new GZipStream(file, CompressionLevel.SmallestSize))
        await using (var tar = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            await tar.WriteEntryAsync(new PaxTarEntry(TarEntryType.RegularFile, "layer.tar") { DataStream = new ZeroStream(300L << 20) });
        }

        using (var archive = await ArchiveFile.OpenAsync(legit))
        {
            Assert.Equal(300L << 20, archive.SizeOf("layer.tar"));
        }
    }

    [Theory]
    [InlineData("ssh://deploy:hunter2@build01", "ssh://deploy:***@build01")]
    [InlineData("tcp://u:hunter2@10.0.0.5:2376", "tcp://u:***@10.0.0.5:2376")]
    [InlineData("ssh://deploy@build01", "ssh://deploy@build01")]
    [InlineData("unix:///var/run/docker.sock", "unix:///var/run/docker.sock")]
    public void PasswordsInDaemonAddresses_AreMasked(string address, string shown) => Assert.Equal(shown, Redaction.Address(address));

    [Fact]
    public async Task DebrisOfAKilledRun_IsRemoved_AndNothingElse()
    {
        var target = Path.Combine(_dir, "bundle.tar");
        var dead = Path.Combine(_dir, ".bundle.tar.ferry-999999999-0123456789ab.tmp");
        var deadDir = Path.Combine(_dir, ".bundle.tar.ferry-999999998-0123456789ab.tmp.old");
        var alive = Path.Combine(_dir, $".bundle.tar.ferry-1-0123456789ab.tmp"); // pid 1 is running
        var unrelated = Path.Combine(_dir, ".bundle.tar.ferry-notes.txt");
        await File.WriteAllTextAsync(dead, "x");
        Directory.CreateDirectory(deadDir);
        await File.WriteAllTextAsync(alive, "x");
        await File.WriteAllTextAsync(unrelated, "x");

        var sink = new Ferry.Transfer.Sinks.ArchiveSink(new Ferry.Transfer.Sinks.ArchiveTarget { Path = target });
        Assert.NotNull(sink);
        Assert.False(File.Exists(dead));
        Assert.False(Directory.Exists(deadDir));
        Assert.True(File.Exists(alive));
        Assert.True(File.Exists(unrelated));

        var spool = Path.Combine(Path.GetTempPath(), "ferry-read-999999997-Ab12Cd");
        Directory.CreateDirectory(spool);
        await File.WriteAllTextAsync(Path.Combine(spool, "archive.tar"), "x");
        await using (var input = new MemoryStream(new byte[1024]))
        using (await ArchiveFile.OpenAsync(input, "stdin"))
        {
        }

        Assert.False(Directory.Exists(spool));
    }

    /// <summary>Accepts a request and never answers (until cancelled).</summary>
    private sealed class SilentHandler : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    /// <summary>A body that sends some bytes and then goes silent.</summary>
    private sealed class StallingContent(int length, int stallAfter) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => throw new NotSupportedException();

        protected override Task<Stream> CreateContentReadStreamAsync() => Task.FromResult<Stream>(new StallingStream(stallAfter));

        protected override bool TryComputeLength(out long value)
        {
            value = length;
            return true;
        }
    }

    private sealed class StallingStream(int stallAfter) : Stream
    {
        private int _sent;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_sent >= stallAfter)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            var n = Math.Min(buffer.Length, stallAfter - _sent);
            buffer.Span[..n].Fill(0x41);
            _sent += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A long stream of zeros, never held in memory.</summary>
    private sealed class ZeroStream(long length) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get => _position; set => _position = value; }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, length - _position);
            Array.Clear(buffer, offset, n);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => _position = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => length + offset };

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
