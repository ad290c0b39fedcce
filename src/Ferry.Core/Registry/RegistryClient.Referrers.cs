using System.Net;
using Ferry.Errors;
using Ferry.Oci;
using Ferry.Referrers;
using Ferry.References;
using Ferry.Registry.Transport;

namespace Ferry.Registry;

public sealed partial class RegistryClient
{
    private const int MaxReferrerPages = 64;

    /// <summary>
    /// Lists the referrers of a manifest through the OCI 1.1 referrers API (<c>GET /v2/NAME/referrers/DIGEST</c>),
    /// following <c>Link</c> pages on the same origin. With <paramref name="artifactType"/>, the registry is asked to
    /// filter; when it does not say it did (<c>OCI-Filters-Applied: artifactType</c>), the list is filtered here.
    /// </summary>
    /// <param name="image">The repository.</param>
    /// <param name="subject">The manifest's digest.</param>
    /// <param name="artifactType">Only artifacts of this type; all when <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The referrers; <see langword="null"/> when the registry has no referrers API (a 404, 400, 405 or 406 answer): use the fallback tag.</returns>
    /// <exception cref="RegistryException">The registry failed, or answered with something that is not an index.</exception>
    public async Task<IReadOnlyList<ReferrerDescriptor>?> ListReferrersAsync(ImageReference image, Digest subject, string? artifactType = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        var what = $"{image.Name}@{subject}: referrers";
        var path = $"referrers/{subject}" + (artifactType is null ? string.Empty : "?artifactType=" + Uri.EscapeDataString(artifactType));
        var entries = new List<ReferrerDescriptor>();
        var filtered = false;
        Uri? next = null;
        Uri? first = null;
        for (var page = 0; page < MaxReferrerPages; page++)
        {
            var call = new RegistryCall(HttpMethod.Get, path, what)
            {
                Accept = [MediaTypes.OciIndex],
                AbsoluteUri = next,
                AcceptStatus = status => status is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotAcceptable,
            };
            using var response = await SendAsync(image, call, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return page == 0 ? null : throw new RegistryException($"{what}: page {page + 1} of the referrers list answered {(int)response.StatusCode}");
            }

            var content = await ReadLimitedAsync(response, _options.MaxManifestBytes, what, cancellationToken, _options.IdleTimeout).ConfigureAwait(false);
            try
            {
                entries.AddRange(ReferrersIndex.Read(content, what));
            }
            catch (InvalidInputException ex)
            {
                throw new RegistryException($"{what}: the registry's referrers answer is not an image index ({ex.Message})");
            }

            filtered |= response.Headers.TryGetValues("OCI-Filters-Applied", out var applied) &&
                        applied.SelectMany(v => v.Split(',')).Any(v => v.Trim() == "artifactType");
            first ??= response.RequestMessage?.RequestUri;
            next = NextPage(response, first, what);
            if (next is null)
            {
                break;
            }
        }

        return artifactType is null || filtered ? entries : entries.Where(e => e.ArtifactType == artifactType).ToList();
    }

    /// <summary>
    /// Lists a repository's tags (<c>GET /v2/NAME/tags/list</c>, every <c>Link</c> page on the same origin);
    /// <see langword="null"/> when the registry will not list them (401, 403, 404, 405) or they run past
    /// <paramref name="maxTags"/>.
    /// </summary>
    /// <param name="image">The repository.</param>
    /// <param name="maxTags">Give up (and return <see langword="null"/>) beyond this many tags.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The tags, or <see langword="null"/>.</returns>
    public async Task<IReadOnlyList<string>?> ListTagsAsync(ImageReference image, int maxTags = 50_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(image);
        return await ListPagedAsync(image, new RegistryCall(HttpMethod.Get, "tags/list?n=1000", $"{image.Name}: tags"), "tags", maxTags, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Lists a registry's repositories (<c>GET /v2/_catalog</c>, every <c>Link</c> page on the same origin);
    /// <see langword="null"/> when the registry does not offer its catalog (401, 403, 404, 405: Docker Hub and most
    /// hosted registries do not).
    /// </summary>
    /// <param name="registry">The registry host[:port].</param>
    /// <param name="maxRepositories">Give up (and return <see langword="null"/>) beyond this many.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The repositories, or <see langword="null"/>.</returns>
    public async Task<IReadOnlyList<string>?> ListRepositoriesAsync(string registry, int maxRepositories = 100_000, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var anchor = ImageReference.Parse($"{registry}/catalog");
        var first = new Uri(await GetEndpointAsync(anchor, cancellationToken).ConfigureAwait(false), "/v2/_catalog?n=1000");
        var call = new RegistryCall(HttpMethod.Get, string.Empty, $"{registry}: catalog") { AbsoluteUri = first, Scope = "registry:catalog:*" };
        return await ListPagedAsync(anchor, call, "repositories", maxRepositories, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One paged listing (<c>tags/list</c>, <c>_catalog</c>): the string array under <paramref name="property"/> of every
    /// page, following <c>Link</c> on the same origin; <see langword="null"/> when the registry will not list (401, 403,
    /// 404, 405), answers with something else than JSON, or lists more than <paramref name="max"/>.
    /// </summary>
    private async Task<IReadOnlyList<string>?> ListPagedAsync(ImageReference anchor, RegistryCall firstCall, string property, int max, CancellationToken cancellationToken)
    {
        var items = new List<string>();
        Uri? next = null;
        Uri? first = null;
        while (items.Count <= max)
        {
            var call = firstCall with
            {
                AbsoluteUri = next ?? firstCall.AbsoluteUri,
                AcceptStatus = status => status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed,
            };
            using var response = await SendAsync(anchor, call, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            var content = await ReadLimitedAsync(response, _options.MaxManifestBytes, call.What, cancellationToken, _options.IdleTimeout).ConfigureAwait(false);
            try
            {
                using var document = System.Text.Json.JsonDocument.Parse(content);
                if (document.RootElement.TryGetProperty(property, out var list) && list.ValueKind == System.Text.Json.JsonValueKind.Array)
                {
                    items.AddRange(list.EnumerateArray().Where(t => t.ValueKind == System.Text.Json.JsonValueKind.String).Select(t => t.GetString()!));
                }
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }

            first ??= response.RequestMessage?.RequestUri;
            next = NextPage(response, first, call.What);
            if (next is null)
            {
                return items;
            }
        }

        return null;
    }

    /// <summary>Fetches a manifest by tag or digest; <see langword="null"/> when the registry does not have it (404).</summary>
    /// <param name="image">The repository.</param>
    /// <param name="reference">A tag or digest.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The verified document, or <see langword="null"/>.</returns>
    public async Task<ManifestDocument?> TryGetManifestAsync(ImageReference image, string reference, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetManifestAsync(image, reference, cancellationToken).ConfigureAwait(false);
        }
        catch (ImageNotFoundException)
        {
            return null;
        }
    }

    /// <summary>The next page of a paged answer: its <c>Link: &lt;…&gt;; rel="next"</c>, which must stay on the first page's origin.</summary>
    private static Uri? NextPage(HttpResponseMessage response, Uri? first, string what)
    {
        if (first is null || !response.Headers.TryGetValues("Link", out var links))
        {
            return null;
        }

        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var open = link.IndexOf('<', StringComparison.Ordinal);
            var close = link.IndexOf('>', StringComparison.Ordinal);
            if (open < 0 || close < open || !link[close..].Contains("rel=\"next\"", StringComparison.Ordinal))
            {
                continue;
            }

            if (!Uri.TryCreate(first, link[(open + 1)..close], out var next) || !HostRules.SameOrigin(next, first))
            {
                throw new RegistryException($"{what}: the registry's next page is on another origin ({TerminalSafe(link)}); refused");
            }

            return next;
        }

        return null;
    }

    private static string TerminalSafe(string text) => new(text.Where(c => !char.IsControl(c)).Take(200).ToArray());
}
