using System.Net;
using System.Security.Cryptography;
using Ferry.Content;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry;

namespace Ferry.Core.Tests;

/// <summary>
/// Upload sessions at the HTTP boundary (#24): a cut body continues from the registry's <c>Range</c>, a dropped
/// session is replaced and never written to again, chunks honour <c>OCI-Chunk-Min-Length</c> and always go to the
/// newest <c>Location</c>, and the failure says how far the upload got. The registry here is scripted; the real
/// registry and real cuts are in the integration tests (SlowLinkTests).
/// </summary>
public sealed class UploadSessionTests
{
    private static readonly ImageReference Target = ImageReference.Parse("registry.test/team/app:1");
    private static readonly RegistryClientOptions Fast = new() { RetryDelay = TimeSpan.FromMilliseconds(5) };

    [Fact]
    public async Task ACutPut_AsksTheSession_AndSendsOnlyTheRestFromItsRange()
    {
        var (blob, descriptor) = Blob(300_000);
        var registry = new SessionRegistry(blob) { CutFirstBodyAfter = 100_000 };
        using var client = new RegistryClient(options: Fast, handler: registry);
        await client.UploadBlobAsync(Target, descriptor, _ => Task.FromResult<Stream>(new MemoryStream(blob)));

        Assert.Equal(["POST", "PUT", "GET", "PATCH", "PUT"], registry.Log.Select(r => r.Method));
        Assert.Equal("100000-299999", registry.Log[3].ContentRange);
        Assert.Equal(200_000, registry.Log[3].BodyBytes);
        Assert.Equal(0, registry.Log[4].BodyBytes);
        Assert.Equal(blob, registry.Stored);
    }

    [Fact]
    public async Task ASessionTheRegistryDropped_IsReplaced_AndItsUrlIsNeverUsedAgain()
    {
        var (blob, descriptor) = Blob(50_000);
        var registry = new SessionRegistry(blob) { CutFirstBodyAfter = 10_000, ForgetCutSessions = true };
        using var client = new RegistryClient(options: Fast, handler: registry);
        await client.UploadBlobAsync(Target, descriptor, _ => Task.FromResult<Stream>(new MemoryStream(blob)));

        Assert.Equal(["POST", "PUT", "GET", "HEAD", "POST", "PUT"], registry.Log.Select(r => r.Method));
        var dead = registry.Log[1].Path;
        Assert.Equal(dead, registry.Log[2].Path);
        Assert.DoesNotContain(registry.Log.Skip(3), r => r.Path == dead);
        Assert.Equal(blob, registry.Stored);
    }

    [Fact]
    public async Task Chunks_HonourTheRegistrysMinimum_AndFollowTheNewestLocation()
    {
        var (blob, descriptor) = Blob(300_000);
        var registry = new SessionRegistry(blob) { MinimumChunk = 128 * 1024 };
        using var client = new RegistryClient(options: Fast with { UploadChunkSize = 64 * 1024 }, handler: registry);
        await client.UploadBlobAsync(Target, descriptor, _ => Task.FromResult<Stream>(new MemoryStream(blob)));

        Assert.Equal(["POST", "PATCH", "PATCH", "PATCH", "PUT"], registry.Log.Select(r => r.Method));
        Assert.Equal(["0-131071", "131072-262143", "262144-299999"], registry.Log.Where(r => r.Method == "PATCH").Select(r => r.ContentRange));
        Assert.Equal(["1", "2", "3", "4"], registry.Log.Skip(1).Select(r => r.Query.Split('&')[0]["state=".Length..]));
        Assert.Equal(blob, registry.Stored);
    }

    [Fact]
    public async Task AnUploadThatNeverGetsFurther_GivesUp_SayingHowFarItGot()
    {
        var (blob, descriptor) = Blob(50_000);
        var registry = new SessionRegistry(blob) { CutEveryBodyAfter = 0, ForgetCutSessions = true };
        using var client = new RegistryClient(options: Fast with { Retries = 2 }, handler: registry);
        var error = await Assert.ThrowsAsync<RegistryException>(() => client.UploadBlobAsync(Target, descriptor, _ => Task.FromResult<Stream>(new MemoryStream(blob))));
        Assert.Matches(@"upload of 48\.8 KiB cut after [0-9.]+ (B|KiB) sent; resumed 0 times, 3 times a new session; gave up: ", error.Message);
        Assert.DoesNotContain("cannot reach", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BytesThatDoNotMatchTheirDigest_FailAsSuch_NotAsANetworkError()
    {
        var (blob, descriptor) = Blob(20_000);
        var registry = new SessionRegistry(blob);
        using var client = new RegistryClient(options: Fast, handler: registry);
        var other = (byte[])blob.Clone();
        other[^1] ^= 1;
        await Assert.ThrowsAsync<DigestMismatchException>(() => client.UploadBlobAsync(Target, descriptor, _ => Task.FromResult<Stream>(new VerifyingReadStream(new MemoryStream(other), descriptor, "test"))));
        Assert.Single(registry.Log, r => r.Method == "POST");
    }

    private static (byte[] Blob, Descriptor Descriptor) Blob(int size)
    {
        var blob = RandomNumberGenerator.GetBytes(size);
        return (blob, new Descriptor("application/octet-stream", Digest.Parse("sha256:" + Convert.ToHexStringLower(SHA256.HashData(blob))), size));
    }

    private sealed record Logged(string Method, string Path, string Query, string? ContentRange, long BodyBytes);

    /// <summary>A registry's upload API as the spec describes it, scripted: sessions, Range, newest Location, cuts on demand.</summary>
    private sealed class SessionRegistry(byte[] expected) : HttpMessageHandler
    {
        private readonly Dictionary<string, MemoryStream> _sessions = [];
        private int _state;
        private bool _cut;

        public List<Logged> Log { get; } = [];

        public long? CutFirstBodyAfter { get; init; }

        public long? CutEveryBodyAfter { get; init; }

        public bool ForgetCutSessions { get; init; }

        public long MinimumChunk { get; init; }

        public byte[]? Stored { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var path = request.RequestUri!.AbsolutePath;
            var query = request.RequestUri.Query.TrimStart('?');
            var range = request.Content?.Headers.TryGetValues("Content-Range", out var values) == true ? values.First() : null;
            var body = new MemoryStream();
            long? cutAt = CutEveryBodyAfter ?? (!_cut ? CutFirstBodyAfter : null);
            if (request.Content is not null)
            {
                try
                {
                    await request.Content.CopyToAsync(new LimitedStream(body, cutAt), cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or HttpRequestException { InnerException: IOException })
                {
                    // The injected cut; handled below.
                }
            }

            Log.Add(new Logged(request.Method.Method, path, query, range, body.Length));
            var session = path.Split('/')[^1];
            if (cutAt is { } limit && body.Length >= limit && request.Content?.Headers.ContentLength > limit)
            {
                _cut = true;
                if (_sessions.TryGetValue(session, out var held))
                {
                    if (ForgetCutSessions)
                    {
                        _sessions.Remove(session);
                    }
                    else
                    {
                        held.Write(body.ToArray());
                    }
                }

                throw new HttpRequestException(HttpRequestError.Unknown, "connection reset by peer (injected)");
            }

            var answer = request.Method.Method switch
            {
                "POST" => Started(),
                "HEAD" => new HttpResponseMessage(HttpStatusCode.NotFound) { RequestMessage = request },
                "GET" when _sessions.TryGetValue(session, out var held) => WithRange(new HttpResponseMessage(HttpStatusCode.NoContent), session, held.Length),
                "GET" => Unknown(),
                "PATCH" when _sessions.TryGetValue(session, out var held) => Append(held, body, session),
                "PUT" when _sessions.TryGetValue(session, out var held) => Finish(held, body),
                _ => Unknown(),
            };
            answer.RequestMessage = request;
            return answer;

            HttpResponseMessage Started()
            {
                var id = Guid.NewGuid().ToString("N");
                _sessions[id] = new MemoryStream();
                var response = WithLocation(new HttpResponseMessage(HttpStatusCode.Accepted), id);
                if (MinimumChunk > 0)
                {
                    response.Headers.TryAddWithoutValidation("OCI-Chunk-Min-Length", MinimumChunk.ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return response;
            }

            HttpResponseMessage Append(MemoryStream held, MemoryStream chunk, string id)
            {
                if (range is null || !range.StartsWith($"{held.Length}-", StringComparison.Ordinal))
                {
                    return new HttpResponseMessage(HttpStatusCode.RequestedRangeNotSatisfiable);
                }

                held.Write(chunk.ToArray());
                return WithRange(new HttpResponseMessage(HttpStatusCode.Accepted), id, held.Length);
            }

            HttpResponseMessage Finish(MemoryStream held, MemoryStream last)
            {
                held.Write(last.ToArray());
                Stored = held.ToArray();
                return new HttpResponseMessage(Stored.AsSpan().SequenceEqual(expected) ? HttpStatusCode.Created : HttpStatusCode.BadRequest);
            }

            HttpResponseMessage Unknown() =>
                new(HttpStatusCode.NotFound) { Content = new StringContent("{\"errors\":[{\"code\":\"BLOB_UPLOAD_UNKNOWN\",\"message\":\"blob upload unknown\"}]}") };
        }

        private HttpResponseMessage WithLocation(HttpResponseMessage response, string id)
        {
            response.Headers.Location = new Uri($"/v2/team/app/blobs/uploads/{id}?state={++_state}", UriKind.Relative);
            return response;
        }

        private HttpResponseMessage WithRange(HttpResponseMessage response, string id, long held)
        {
            WithLocation(response, id);
            if (held > 0)
            {
                response.Headers.TryAddWithoutValidation("Range", $"0-{held - 1}");
            }

            return response;
        }
    }

    /// <summary>Takes a body up to a limit and then fails, as a connection that drops.</summary>
    private sealed class LimitedStream(MemoryStream inner, long? limit) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            var room = limit is { } l ? (int)Math.Max(0, Math.Min(count, l - inner.Length)) : count;
            inner.Write(buffer, offset, room);
            if (room < count)
            {
                throw new IOException("cut (injected)");
            }
        }
    }
}
