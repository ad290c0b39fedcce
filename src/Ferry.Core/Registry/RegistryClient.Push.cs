using System.Net;
using System.Net.Http.Headers;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.References;
using Ferry.Registry.Transport;

namespace Ferry.Registry;

/// <summary>The push half of the distribution API: blob existence, cross-repository mounts, uploads, manifests.</summary>
public sealed partial class RegistryClient
{
    /// <summary>Whether the repository already holds the blob (<c>HEAD</c>; the size must match too).</summary>
    /// <param name="repository">The target repository (its registry and path are used).</param>
    /// <param name="descriptor">The blob.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> when present with the same size.</returns>
    /// <exception cref="RegistryException">The registry failed or refused.</exception>
    public async Task<bool> BlobExistsAsync(ImageReference repository, Descriptor descriptor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(descriptor);
        var call = new RegistryCall(HttpMethod.Head, $"blobs/{descriptor.Digest}", $"{repository.Name}@{descriptor.Digest.Short}")
        {
            Push = true,
            AcceptStatus = status => status == HttpStatusCode.NotFound,
        };
        using var response = await SendAsync(repository, call, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK && (response.Content.Headers.ContentLength is null || response.Content.Headers.ContentLength == descriptor.Size);
    }

    /// <summary>
    /// The digest a tag (or digest) of a repository points at now, asked with one <c>HEAD</c> (the registry's
    /// <c>Docker-Content-Digest</c>); a registry that does not send it is asked with a <c>GET</c>, verified. No blob is
    /// read. Asked with pull scope: a dry run asks it of a source, an incremental push of its target.
    /// </summary>
    /// <param name="repository">The repository.</param>
    /// <param name="reference">A tag or digest.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The digest, or <see langword="null"/> when the repository has no such manifest.</returns>
    /// <exception cref="RegistryException">The registry failed or refused.</exception>
    public async Task<Digest?> ManifestDigestAsync(ImageReference repository, string reference, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentException.ThrowIfNullOrEmpty(reference);
        var call = new RegistryCall(HttpMethod.Head, $"manifests/{reference}", $"{repository.Name}{(reference.Contains(':', StringComparison.Ordinal) ? "@" : ":")}{reference}")
        {
            Accept = MediaTypes.ManifestAccept,
            AcceptStatus = status => status == HttpStatusCode.NotFound,
        };
        using (var response = await SendAsync(repository, call, cancellationToken).ConfigureAwait(false))
        {
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var digest) && digest.Algorithm == "sha256")
            {
                return digest;
            }
        }

        return (await TryGetManifestAsync(repository, reference, cancellationToken).ConfigureAwait(false))?.Digest;
    }

    /// <summary>Asks the registry to mount a blob from another repository of the same registry (no bytes travel).</summary>
    /// <param name="repository">The target repository.</param>
    /// <param name="descriptor">The blob.</param>
    /// <param name="fromRepository">The repository path that holds it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns><see langword="true"/> when mounted; <see langword="false"/> when the registry declined (upload instead).</returns>
    public async Task<bool> MountBlobAsync(ImageReference repository, Descriptor descriptor, string fromRepository, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(descriptor);
        var call = new RegistryCall(HttpMethod.Post, $"blobs/uploads/?mount={Uri.EscapeDataString(descriptor.Digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}", $"{repository.Name}@{descriptor.Digest.Short}")
        {
            Push = true,
            MountFrom = fromRepository,
            AcceptStatus = status => status == HttpStatusCode.Accepted,
        };
        using var response = await SendAsync(repository, call, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.Created)
        {
            return true;
        }

        // 202: the registry opened an upload session instead; abandon it (registries expire them).
        return false;
    }

    /// <summary>
    /// Uploads a blob through an upload session: one streaming <c>PUT</c> by default, or <c>PATCH</c> chunks of
    /// <see cref="RegistryClientOptions.UploadChunkSize"/>. A cut upload asks the session how far it got and continues
    /// from there; a session the registry dropped is replaced by a new one — a dead session URL is never sent to again.
    /// </summary>
    /// <param name="repository">The target repository.</param>
    /// <param name="descriptor">The blob.</param>
    /// <param name="open">Opens the blob's bytes from their start (a stream that verifies them; called again to resume).</param>
    /// <param name="cancellationToken">Cancels the upload.</param>
    /// <returns>A task.</returns>
    /// <exception cref="RegistryException">The registry refused the upload, or it could not be completed (the message says how far it got).</exception>
    public async Task UploadBlobAsync(ImageReference repository, Descriptor descriptor, Func<CancellationToken, Task<Stream>> open, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(descriptor);
        ArgumentNullException.ThrowIfNull(open);
        await using var upload = new BlobUpload(this, repository, descriptor, open);
        await upload.RunAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Pushes a manifest or index with its exact bytes, under a tag or its digest.</summary>
    /// <param name="repository">The target repository.</param>
    /// <param name="reference">A tag, or the digest.</param>
    /// <param name="content">The exact bytes (their digest is what the registry must store).</param>
    /// <param name="mediaType">The manifest's media type (sent as Content-Type).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The digest of the pushed bytes.</returns>
    /// <exception cref="DigestMismatchException">The registry reports another digest than the bytes have.</exception>
    /// <exception cref="RegistryException">The registry refused the manifest.</exception>
    public async Task<Digest> PutManifestAsync(ImageReference repository, string reference, ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken = default) =>
        (await PutManifestReportingSubjectAsync(repository, reference, content, mediaType, cancellationToken).ConfigureAwait(false)).Digest;

    /// <summary>Pushes a manifest, and tells whether the registry indexed its <c>subject</c> (it answered with an <c>OCI-Subject</c> header).</summary>
    internal async Task<(Digest Digest, bool SubjectIndexed)> PutManifestReportingSubjectAsync(ImageReference repository, string reference, ReadOnlyMemory<byte> content, string mediaType, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var digest = Digest.Sha256Of(content.Span);
        var what = $"{repository.Name}{(reference.Contains(':', StringComparison.Ordinal) ? "@" : ":")}{reference}";
        var call = new RegistryCall(HttpMethod.Put, $"manifests/{reference}", what)
        {
            Push = true,
            Content = () =>
            {
                var body = new ReadOnlyMemoryContent(content);
                body.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
                return body;
            },
        };
        using var response = await SendAsync(repository, call, cancellationToken).ConfigureAwait(false);
        if (response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var stored) &&
            stored.Algorithm == digest.Algorithm && stored != digest)
        {
            throw new DigestMismatchException($"{what}: the registry stored the manifest as {stored}, but its bytes hash to {digest}");
        }

        return (digest, response.Headers.Contains("OCI-Subject"));
    }

    /// <summary>The upload session URL, checked like a redirect: http(s), no downgrade, no internal address for a remote registry.</summary>
    private static async Task<Uri> UploadLocationAsync(HttpResponseMessage response, ImageReference repository, string what, CancellationToken cancellationToken)
    {
        var request = response.RequestMessage?.RequestUri ?? throw new RegistryException($"{what}: upload session without a request");
        var location = response.Headers.Location ?? throw new RegistryException($"{what}: the registry opened an upload without a Location");
        var absolute = location.IsAbsoluteUri ? location : new Uri(request, location);
        if (absolute.Scheme is not ("http" or "https") || (request.Scheme == Uri.UriSchemeHttps && absolute.Scheme == Uri.UriSchemeHttp) ||
            await HostRules.IsForbiddenTargetAsync(absolute.Host, await HostRules.IsLocalAsync(repository.RegistryHost, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false))
        {
            throw new RegistryException($"{what}: refused the upload Location {Redaction.Uri(absolute)}");
        }

        return absolute;
    }
}
