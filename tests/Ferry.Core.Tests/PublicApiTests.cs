using System.Reflection;
using System.Text;

namespace Ferry.Core.Tests;

/// <summary>
/// The public surface of Ferry.Core, listed and compared with <c>PublicApi.txt</c>, so that every change to it is
/// deliberate. After an intended change, regenerate the file: <c>FERRY_UPDATE_PUBLIC_API=1 ./test.sh</c>.
/// </summary>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicSurface_MatchesTheCheckedInListing()
    {
        var actual = Listing();
        var file = Path.Combine(SourceDirectory(), "PublicApi.txt");
        if (Environment.GetEnvironmentVariable("FERRY_UPDATE_PUBLIC_API") == "1")
        {
            File.WriteAllText(file, actual);
        }

        var expected = File.Exists(file) ? File.ReadAllText(file) : string.Empty;
        var added = actual.Split('\n').Except(expected.Split('\n')).Take(20).ToList();
        var removed = expected.Split('\n').Except(actual.Split('\n')).Take(20).ToList();
        Assert.True(added.Count == 0 && removed.Count == 0,
            $"The public API changed. Added:\n  {string.Join("\n  ", added)}\nRemoved:\n  {string.Join("\n  ", removed)}\nIf intended, run FERRY_UPDATE_PUBLIC_API=1 ./test.sh and commit PublicApi.txt.");
    }

    private static string Listing()
    {
        var lines = new List<string>();
        foreach (var type in typeof(Images).Assembly.GetExportedTypes())
        {
            lines.Add($"type {Name(type)}");
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var member in type.GetMembers(flags))
            {
                var text = member switch
                {
                    ConstructorInfo c => $"  ctor({Parameters(c)})",
                    MethodInfo m when !m.IsSpecialName => $"  {(m.IsStatic ? "static " : string.Empty)}{Name(m.ReturnType)} {m.Name}({Parameters(m)})",
                    PropertyInfo p => $"  {Name(p.PropertyType)} {p.Name} {{{(p.GetMethod?.IsPublic == true ? " get;" : string.Empty)}{(p.SetMethod?.IsPublic == true ? " set;" : string.Empty)} }}",
                    FieldInfo f => $"  {(f.IsLiteral ? "const " : f.IsStatic ? "static " : string.Empty)}{Name(f.FieldType)} {f.Name}",
                    EventInfo e => $"  event {e.Name}",
                    _ => null,
                };
                if (text is not null)
                {
                    lines.Add($"{Name(type)}:{text}");
                }
            }
        }

        lines.Sort(StringComparer.Ordinal);
        return string.Join('\n', lines) + "\n";
    }

    private static string Parameters(MethodBase method) => string.Join(", ", method.GetParameters().Select(p => $"{Name(p.ParameterType)} {p.Name}"));

    private static string Name(Type type)
    {
        if (!type.IsGenericType)
        {
            return type.FullName ?? type.Name;
        }

        var definition = type.GetGenericTypeDefinition().FullName ?? type.Name;
        return $"{definition[..definition.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", type.GetGenericArguments().Select(Name))}>";
    }

    private static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
}
