using System.Text;

namespace Ferry.Diagnostics;

/// <summary>
/// How results and events print their lists: <c>[a, b, c]</c> with each item's own text, not the list's type name
/// (<c>List`1</c>), which is all a record prints of a list by default.
/// </summary>
internal static class Printed
{
    /// <summary>Appends <c>Name = value</c> pairs, lists written out item by item.</summary>
    /// <param name="builder">Where the text goes.</param>
    /// <param name="members">The members, in order.</param>
    /// <returns><see langword="true"/> (members were printed).</returns>
    public static bool Members(StringBuilder builder, params (string Name, object? Value)[] members)
    {
        for (var i = 0; i < members.Length; i++)
        {
            if (i > 0)
            {
                builder.Append(", ");
            }

            builder.Append(members[i].Name).Append(" = ");
            Value(builder, members[i].Value);
        }

        return true;
    }

    private static void Value(StringBuilder builder, object? value)
    {
        switch (value)
        {
            case null:
                builder.Append("null");
                break;
            case string text:
                builder.Append(text);
                break;
            case System.Collections.IEnumerable items:
                builder.Append('[');
                var first = true;
                foreach (var item in items)
                {
                    builder.Append(first ? string.Empty : ", ");
                    Value(builder, item);
                    first = false;
                }

                builder.Append(']');
                break;
            default:
                builder.Append(value);
                break;
        }
    }
}
