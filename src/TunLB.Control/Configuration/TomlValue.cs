using System.Globalization;
using System.Text;

namespace TunLB.Control.Configuration;

/// <summary>Values written as TOML text, as <see cref="ConfigLoader"/> reads them back.</summary>
public static class TomlValue
{
    public static string Int(long v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Bool(bool b) => b ? "true" : "false";

    public static string StringArray(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(String)) + "]";

    /// <summary>A TOML basic string with every character that needs it escaped.</summary>
    public static string String(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7F) sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
