using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using TunLB.Health;

namespace TunLB.Control.Configuration;

/// <summary>A check validated by <see cref="CheckRules"/>: the resolved spec, or every error found.</summary>
public sealed record CheckRulesResult(CheckSpec? Value, IReadOnlyList<FieldError> Errors)
{
    public bool Ok => Value is not null;
}

/// <summary>
/// One rule set for a health check, whoever sends it: the API's JSON body, <c>tunlb adm --check</c>'s words and the
/// config file's <c>[service.check]</c> / <c>[service.real.check]</c> tables all go through the file's reader
/// (<see cref="HealthConfigReader.ReadCheck"/>). The keys and their values are the file's; every error is collected.
/// </summary>
public static partial class CheckRules
{
    /// <summary>The keys of a check table (type, port, path, ..., dampening).</summary>
    public static IReadOnlyList<string> Keys => HealthConfigReader.CheckKeys;

    /// <summary>
    /// Validates <paramref name="values"/> (key, TOML value text) over <paramref name="defaults"/> (a new
    /// <see cref="CheckSpec"/> for a service's check, the service's check for a real's), as the file would.
    /// <paramref name="protocol"/> is the service's ("tcp", "udp", ...). A type is required when the defaults have none.
    /// </summary>
    public static CheckRulesResult Check(IReadOnlyList<KeyValuePair<string, string>> values, CheckSpec defaults, string protocol)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(defaults);
        var errors = new List<FieldError>();
        var text = new StringBuilder();
        foreach (var (k, v) in values)
        {
            if (!BareKey().IsMatch(k)) { errors.Add(new FieldError(k, $"unknown key (known keys: {string.Join(", ", Keys)})")); continue; }
            text.Append(k).Append(" = ").Append(v).Append('\n');
        }
        if (defaults.Type == "none" && !values.Any(kv => kv.Key == "type"))
            errors.Add(new FieldError("type", $"required: one of {string.Join(", ", CheckSpec.Types)}"));
        var sink = new ErrorSink("check");
        var root = TomlTree.Parse(text.ToString(), "check", sink.Errors);
        CheckSpec? spec = null;
        if (root is not null)
        {
            var r = new TableReader(sink, root, "", HealthConfigReader.CheckKeys);
            spec = HealthConfigReader.ReadCheck(r, defaults, protocol);
        }
        errors.AddRange(sink.Errors.Select(e => new FieldError(e.Key.Length > 0 ? e.Key : "check", e.Message)));
        return errors.Count > 0 ? new CheckRulesResult(null, errors) : new CheckRulesResult(spec, []);
    }

    /// <summary>The API's JSON object as (key, TOML value) pairs; null members are left out.</summary>
    /// <exception cref="FormatException">Not an object, or a member is an array.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> FromJson(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object) throw new FormatException("the body must be a JSON object of check keys, as in a [service.check] table");
        var list = new List<KeyValuePair<string, string>>();
        foreach (var p in body.EnumerateObject())
            if (p.Value.ValueKind != JsonValueKind.Null) list.Add(new(p.Name, Toml(p.Value, p.Name)));
        return list;
    }

    private static string Toml(JsonElement v, string name) => v.ValueKind switch
    {
        JsonValueKind.String => TomlValue.String(v.GetString()!),
        JsonValueKind.Number => v.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Object => "{ " + string.Join(", ", v.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null)
            .Select(p => (BareKey().IsMatch(p.Name) ? p.Name : TomlValue.String(p.Name)) + " = " + Toml(p.Value, name + "." + p.Name))) + " }",
        _ => throw new FormatException($"{name}: expected a string, number, boolean or object, got {v.ValueKind.ToString().ToLowerInvariant()}"),
    };

    /// <summary>
    /// <c>tunlb adm --check</c>'s words, "http path=/health interval=2 fall=3": an optional first word without '=' is the
    /// type; then key=value, where true/false and numbers are themselves and anything else a string (quote with ' or "
    /// to keep spaces). "dampening=true" turns dampening on with its defaults.
    /// </summary>
    /// <exception cref="FormatException">A word is not key=value, or a quote is not closed.</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> FromWords(string words)
    {
        ArgumentNullException.ThrowIfNull(words);
        var list = new List<KeyValuePair<string, string>>();
        var tokens = Split(words);
        for (int i = 0; i < tokens.Count; i++)
        {
            var (t, quoted) = tokens[i];
            int eq = t.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                if (i == 0 && !quoted) { list.Add(new("type", TomlValue.String(t))); continue; }
                throw new FormatException($"\"{t}\" is not key=value (the type, if given, comes first: \"http path=/health interval=2\")");
            }
            string key = t[..eq], value = t[(eq + 1)..];
            if (key.Length == 0) throw new FormatException($"\"{t}\" has no key before '='");
            bool literal = !quoted && (value is "true" or "false" || Number().IsMatch(value));
            list.Add(new(key, literal ? value : TomlValue.String(value)));
        }
        return list;
    }

    /// <summary>Whitespace-separated words; quotes (' or ") group and are removed; "quoted" when any part was quoted.</summary>
    private static List<(string Text, bool Quoted)> Split(string s)
    {
        var tokens = new List<(string, bool)>();
        var cur = new StringBuilder();
        bool inWord = false, quoted = false;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord) { tokens.Add((cur.ToString(), quoted)); cur.Clear(); inWord = quoted = false; }
                continue;
            }
            inWord = true;
            if (c is '\'' or '"')
            {
                int end = s.IndexOf(c, i + 1);
                if (end < 0) throw new FormatException($"unclosed {c} in \"{s}\"");
                cur.Append(s, i + 1, end - i - 1);
                quoted = true;
                i = end;
                continue;
            }
            cur.Append(c);
        }
        if (inWord) tokens.Add((cur.ToString(), quoted));
        return tokens;
    }

    /// <summary>
    /// <see cref="FromWords"/>'s words as the API's JSON body: true/false and numbers as themselves, the rest as strings.
    /// </summary>
    /// <exception cref="FormatException">As <see cref="FromWords"/>.</exception>
    public static string WordsToJson(string words)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            foreach (var (key, toml) in FromWords(words))
            {
                if (toml is "true" or "false") w.WriteBoolean(key, toml == "true");
                else if (!Number().IsMatch(toml)) w.WriteString(key, Unquote(toml));
                else if (toml.Contains('.', StringComparison.Ordinal)) w.WriteNumber(key, double.Parse(toml, CultureInfo.InvariantCulture));
                else w.WriteNumber(key, long.Parse(toml, CultureInfo.InvariantCulture));
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    // The inverse of TomlValue.String for what FromWords writes.
    private static string Unquote(string toml)
    {
        var s = toml[1..^1];
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] != '\\' || i + 1 >= s.Length) { sb.Append(s[i]); continue; }
            char c = s[++i];
            switch (c)
            {
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u': sb.Append((char)int.Parse(s.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture)); i += 4; break;
                default: sb.Append(c); break;
            }
        }
        return sb.ToString();
    }

    [GeneratedRegex("^[A-Za-z0-9_-]+$")]
    private static partial Regex BareKey();

    [GeneratedRegex(@"^[+-]?[0-9]+(\.[0-9]+)?$")]
    private static partial Regex Number();
}
