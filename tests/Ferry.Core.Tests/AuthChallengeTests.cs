using Ferry.Registry.Auth;

namespace Ferry.Core.Tests;

public sealed class AuthChallengeTests
{
    [Fact]
    public void Parse_BearerWithQuotedCommas_KeepsTheWholeScope()
    {
        var challenges = AuthChallenge.Parse(["Bearer realm=\"https://auth.example.com/token\",service=\"registry.example.com\",scope=\"repository:a/b:pull,push\""]);
        var bearer = Assert.Single(challenges);
        Assert.Equal("bearer", bearer.Scheme);
        Assert.Equal("https://auth.example.com/token", bearer["realm"]);
        Assert.Equal("registry.example.com", bearer["service"]);
        Assert.Equal("repository:a/b:pull,push", bearer["scope"]);
    }

    [Fact]
    public void Parse_SeveralChallengesInOneHeader_ReturnsEach()
    {
        var challenges = AuthChallenge.Parse(["Basic realm=\"Registry Realm\", Bearer realm=\"https://t.example/token\",service=\"x\""]);
        Assert.Equal(["basic", "bearer"], challenges.Select(c => c.Scheme));
        Assert.Equal("Registry Realm", challenges[0]["realm"]);
        Assert.Equal("x", challenges[1]["service"]);
    }

    [Fact]
    public void Parse_EscapedQuote_IsUnescaped()
    {
        var challenge = Assert.Single(AuthChallenge.Parse(["Bearer realm=\"https://a/t\", error=\"say \\\"hi\\\"\""]));
        Assert.Equal("say \"hi\"", challenge["error"]);
    }
}
