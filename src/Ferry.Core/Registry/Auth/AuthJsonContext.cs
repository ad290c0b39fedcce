using System.Text.Json.Serialization;

namespace Ferry.Registry.Auth;

/// <summary>Source-generated JSON for the credential types (trim-safe).</summary>
[JsonSerializable(typeof(HelperCredential))]
internal sealed partial class AuthJsonContext : JsonSerializerContext;
