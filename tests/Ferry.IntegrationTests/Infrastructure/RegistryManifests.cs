namespace Ferry.IntegrationTests.Infrastructure;

/// <summary>Reads manifests back from a registry with plain HTTP (independent of Ferry's client).</summary>
internal static class RegistryManifests
{
    private static readonly string[] Types =
    [
        "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json",
    ];

    /// <summary>The manifest or index bytes stored under a tag or digest.</summary>
    public static async Task<byte[]> GetAsync(string host, string repository, string reference)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}/v2/{repository}/manifests/{reference}");
        foreach (var type in Types)
        {
            request.Headers.Accept.ParseAdd(type);
        }

        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>The digest of those bytes, computed here (not taken from the registry's header).</summary>
    public static async Task<string> DigestAsync(string host, string repository, string reference) =>
        "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(await GetAsync(host, repository, reference)));
}
