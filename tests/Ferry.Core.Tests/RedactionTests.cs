using Ferry.Registry.Transport;

namespace Ferry.Core.Tests;

/// <summary>Case 26: what may be printed of a URL.</summary>
public sealed class RedactionTests
{
    [Theory]
    [InlineData("https://bucket.s3.test/blob?X-Amz-Signature=abc&X-Amz-Credential=key", "https://bucket.s3.test/blob?<redacted>")]
    [InlineData("https://user:pw@registry.test/v2/", "https://registry.test/v2/")]
    [InlineData("http://127.0.0.1:5000/v2/a/blobs/sha256:00", "http://127.0.0.1:5000/v2/a/blobs/sha256:00")]
    public void Case26_Urls_LoseUserInfoAndQuery(string url, string printed) => Assert.Equal(printed, Redaction.Uri(new Uri(url)));
}
