using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>Collects errors for one file.</summary>
internal sealed class ErrorSink(string file)
{
    public readonly string File = file;
    public readonly List<ConfigError> Errors = [];

    public void Add(int line, int column, string key, string message) =>
        Errors.Add(new ConfigError(File, line, column, key, message));

    /// <summary>Throws with every error, in file order (stable for errors on the same spot).</summary>
    public void ThrowIfAny()
    {
        if (Errors.Count > 0)
            throw new ConfigException(Errors.OrderBy(e => e.Line).ThenBy(e => e.Column).ToList());
    }
}

/// <summary>
/// Typed, range-checked access to one table. Every problem is recorded in the sink and a
/// fallback value returned, so validation goes on and all errors are reported together.
/// Unknown keys are reported when the reader is created.
/// </summary>
internal sealed class TableReader
{
    private readonly ErrorSink _sink;
    public readonly TTable Table;
    /// <summary>Key path of this table, e.g. "service[1].real[0]"; empty for the document root.</summary>
    public readonly string Path;

    public TableReader(ErrorSink sink, TTable table, string path, IReadOnlyCollection<string> known,
        Func<string, string?>? hint = null)
    {
        _sink = sink; Table = table; Path = path;
        foreach (var e in table.Entries)
        {
            if (known.Contains(e.Name)) continue;
            var what = e.Value is TTable or TTableArray ? "table" : "key";
            var suggestion = ConfigText.Suggest(e.Name, known);
            var extra = suggestion is not null ? $"; did you mean \"{suggestion}\"?" : hint?.Invoke(e.Name) is { } h ? $"; {h}" : "";
            _sink.Add(e.Line, e.Column, KeyPath(e.Name), $"unknown {what}{extra} (known keys here: {string.Join(", ", known)})");
        }
    }

    /// <summary>A reader for a sub-table, reporting into the same sink.</summary>
    public TableReader Child(TTable table, string path, IReadOnlyCollection<string> known) => new(_sink, table, path, known);

    public string KeyPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public TEntry? Get(string key) => Table.Find(key);

    public void Error(TEntry e, string message) => _sink.Add(e.Line, e.Column, KeyPath(e.Name), message);

    public void Error(TNode at, string keyPath, string message) => _sink.Add(at.Line, at.Column, keyPath, message);

    /// <summary>Reports a missing required key at this table's header.</summary>
    public TEntry? Required(string key)
    {
        var e = Get(key);
        if (e is null)
            _sink.Add(Table.Line, Table.Column, KeyPath(key), "required key is missing");
        return e;
    }

    public void TypeError(TEntry e, string expected) =>
        Error(e, $"expected {expected}, got {e.Value.Describe()}");

    public bool TryInteger(TEntry e, long min, long max, out long value)
    {
        value = 0;
        if (e.Value is not TScalar { Value: long v })
        {
            TypeError(e, "an integer");
            return false;
        }
        if (v < min || v > max)
        {
            Error(e, $"{v} is out of range; must be {min}..{max}");
            return false;
        }
        value = v;
        return true;
    }

    /// <summary>An integer left for a rule set to range-check; null when absent or not an integer (reported).</summary>
    public long? Integer(string key)
    {
        var e = Get(key);
        if (e is null) return null;
        if (e.Value is TScalar { Value: long v }) return v;
        TypeError(e, "an integer");
        return null;
    }

    /// <summary>A boolean; null when absent or not a boolean (reported).</summary>
    public bool? OptionalBool(string key)
    {
        var e = Get(key);
        if (e is null) return null;
        if (e.Value is TScalar { Value: bool b }) return b;
        TypeError(e, "a boolean (true or false, without quotes)");
        return null;
    }

    /// <summary>Reports a rule's error at <paramref name="key"/>'s entry, or at this table's header when it is absent.</summary>
    public void ErrorAt(string key, string message)
    {
        if (Get(key) is { } e) Error(e, message);
        else _sink.Add(Table.Line, Table.Column, KeyPath(key), message);
    }

    public int Int(string key, long min, long max, int fallback) =>
        Get(key) is { } e && TryInteger(e, min, max, out var v) ? (int)v : fallback;

    public bool Bool(string key, bool fallback) => OptionalBool(key) ?? fallback;

    public bool TryString(TEntry e, out string value)
    {
        if (e.Value is TScalar { Value: string s })
        {
            value = s;
            return true;
        }
        TypeError(e, "a string");
        value = "";
        return false;
    }

    public string? String(string key) => Get(key) is { } e && TryString(e, out var s) ? s : null;

    /// <summary>A string that must be one of <paramref name="allowed"/>.</summary>
    public string? OneOf(string key, IReadOnlyList<string> allowed, string what)
    {
        var e = Get(key);
        if (e is null || !TryString(e, out var s)) return null;
        if (allowed.Contains(s)) return s;
        var suggestion = ConfigText.Suggest(s, allowed);
        Error(e, $"unknown {what} \"{s}\"; known: {string.Join(" ", allowed)}"
                 + (suggestion is not null ? $" (did you mean \"{suggestion}\"?)" : ""));
        return null;
    }

    /// <summary>A string naming one of <paramref name="names"/>' values.</summary>
    public T? OneOf<T>(string key, NameTable<T> names, string what) where T : struct, Enum =>
        OneOf(key, names.Names, what) is { } s && names.TryParse(s, out var v) ? v : null;

    public bool TryHostAddress(TEntry e, out IpAddress address)
    {
        address = default;
        if (!TryString(e, out var s)) return false;
        if (ConfigText.TryParseHostAddress(s, out address, out var err)) return true;
        Error(e, err);
        return false;
    }

    /// <summary>
    /// The entry as a list of tables: [[key]] headers or an array of inline tables.
    /// Reports an error for anything else.
    /// </summary>
    public IReadOnlyList<TTable> TableList(string key)
    {
        var e = Get(key);
        switch (e?.Value)
        {
            case null: return [];
            case TTableArray a: return a.Items;
            case TArray a when a.Items.All(i => i is TTable): return a.Items.Cast<TTable>().ToList();
            default:
                Error(e, $"expected an array of tables (a [[{TableHeaderName(key)}]] header for each), got {e.Value.Describe()}");
                return [];
        }
    }

    /// <summary>The header name for a sub-table of this table, without indexes: "service.real".</summary>
    private string TableHeaderName(string key)
    {
        var sb = new System.Text.StringBuilder();
        bool inIndex = false;
        foreach (var c in KeyPath(key))
        {
            if (c == '[') inIndex = true;
            else if (c == ']') inIndex = false;
            else if (!inIndex) sb.Append(c);
        }
        return sb.ToString();
    }
}
