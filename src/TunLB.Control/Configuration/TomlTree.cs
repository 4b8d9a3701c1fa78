using System.Text.RegularExpressions;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace TunLB.Control.Configuration;

// A small logical view of a TOML document built from Tomlyn's syntax tree. We build it ourselves
// (rather than using Tomlyn's TomlTable model) because only the syntax tree carries positions,
// and every error we report needs the line and column of the key it is about.
// Positions here are 1-based.

internal abstract class TNode
{
    public int Line;
    public int Column;

    /// <summary>"a string", "an integer", ... for type error messages.</summary>
    public abstract string Describe();
}

internal sealed class TScalar : TNode
{
    public required object Value;
    public override string Describe() => Value switch
    {
        string s => $"a string (\"{s}\")",
        long l => $"an integer ({l})",
        double d => $"a float ({d.ToString(System.Globalization.CultureInfo.InvariantCulture)})",
        bool b => $"a boolean ({(b ? "true" : "false")})",
        _ => "a date-time",
    };
}

internal sealed class TArray : TNode
{
    public readonly List<TNode> Items = [];
    public override string Describe() => "an array";
}

internal sealed class TTable : TNode
{
    public readonly List<TEntry> Entries = [];
    /// <summary>True for [[x]] elements and inline tables inside arrays.</summary>
    public override string Describe() => "a table";

    public TEntry? Find(string name)
    {
        foreach (var e in Entries) if (e.Name == name) return e;
        return null;
    }
}

/// <summary>The value of a key defined by [[x]] headers.</summary>
internal sealed class TTableArray : TNode
{
    public readonly List<TTable> Items = [];
    public override string Describe() => "an array of tables";
}

/// <summary>A key in a table with the position where it is written.</summary>
internal sealed class TEntry
{
    public required string Name;
    public required TNode Value;
    public int Line;
    public int Column;
}

internal static partial class TomlTree
{
    /// <summary>
    /// Parses <paramref name="text"/>. On TOML syntax or semantic errors (including keys defined
    /// twice) adds them to <paramref name="errors"/> and returns null: a tree built from a broken
    /// document would produce misleading follow-on errors.
    /// </summary>
    public static TTable? Parse(string text, string file, List<ConfigError> errors)
    {
        DocumentSyntax doc;
        try
        {
            doc = SyntaxParser.Parse(text, file, validate: true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Tomlyn reports problems as diagnostics; this is a safety net for parser bugs.
            errors.Add(new ConfigError(file, 0, 0, "", $"TOML parser failed: {ex.Message}"));
            return null;
        }

        if (doc.HasErrors)
        {
            foreach (var d in doc.Diagnostics)
            {
                if (d.Kind != DiagnosticMessageKind.Error) continue;
                var m = DefinedKeyRegex().Match(d.Message);
                errors.Add(new ConfigError(file, d.Span.Start.Line + 1, d.Span.Start.Column + 1,
                    m.Success ? m.Groups[1].Value : "", d.Message));
            }
            return null;
        }

        var root = new TTable { Line = 1, Column = 1 };
        foreach (var kv in doc.KeyValues) AddKeyValue(root, kv);
        foreach (var t in doc.Tables)
        {
            if (t.Name is null) continue;
            var parts = KeyParts(t.Name);
            if (parts.Count == 0) continue;
            int line = t.Span.Start.Line + 1, col = t.Span.Start.Column + 1;
            var parent = root;
            for (int i = 0; i < parts.Count - 1; i++) parent = Descend(parent, parts[i], line, col);
            var last = parts[^1];
            var existing = parent.Find(last);
            TTable table;
            if (t is TableArraySyntax)
            {
                if (existing?.Value is not TTableArray arr)
                {
                    arr = new TTableArray { Line = line, Column = col };
                    if (existing is null) parent.Entries.Add(new TEntry { Name = last, Value = arr, Line = line, Column = col });
                }
                table = new TTable { Line = line, Column = col };
                arr.Items.Add(table);
            }
            else if (existing?.Value is TTable implicitTable)
            {
                // Created implicitly by an earlier [a.b.c]; this header defines it.
                table = implicitTable;
                table.Line = line; table.Column = col;
                existing.Line = line; existing.Column = col;
            }
            else
            {
                table = new TTable { Line = line, Column = col };
                if (existing is null) parent.Entries.Add(new TEntry { Name = last, Value = table, Line = line, Column = col });
            }
            foreach (var kv in t.Items) AddKeyValue(table, kv);
        }
        return root;
    }

    private static TTable Descend(TTable parent, string name, int line, int col)
    {
        var e = parent.Find(name);
        switch (e?.Value)
        {
            case TTable t: return t;
            case TTableArray a when a.Items.Count > 0: return a.Items[^1];
            case null:
                var nt = new TTable { Line = line, Column = col };
                parent.Entries.Add(new TEntry { Name = name, Value = nt, Line = line, Column = col });
                return nt;
            default:
                // A conflict Tomlyn's validation already reports; keep going on a detached table.
                return new TTable { Line = line, Column = col };
        }
    }

    private static void AddKeyValue(TTable table, KeyValueSyntax kv)
    {
        if (kv.Key is null || kv.Value is null) return;
        var parts = KeyParts(kv.Key);
        if (parts.Count == 0) return;
        int line = kv.Key.Span.Start.Line + 1, col = kv.Key.Span.Start.Column + 1;
        for (int i = 0; i < parts.Count - 1; i++) table = Descend(table, parts[i], line, col);
        table.Entries.Add(new TEntry { Name = parts[^1], Value = Convert(kv.Value), Line = line, Column = col });
    }

    private static TNode Convert(ValueSyntax v)
    {
        int line = v.Span.Start.Line + 1, col = v.Span.Start.Column + 1;
        switch (v)
        {
            case StringValueSyntax s: return new TScalar { Value = s.Value ?? "", Line = line, Column = col };
            case IntegerValueSyntax i: return new TScalar { Value = i.Value, Line = line, Column = col };
            case FloatValueSyntax f: return new TScalar { Value = f.Value, Line = line, Column = col };
            case BooleanValueSyntax b: return new TScalar { Value = b.Value, Line = line, Column = col };
            case ArraySyntax a:
                var arr = new TArray { Line = line, Column = col };
                foreach (var item in a.Items)
                    if (item.Value is not null) arr.Items.Add(Convert(item.Value));
                return arr;
            case InlineTableSyntax it:
                var table = new TTable { Line = line, Column = col };
                foreach (var item in it.Items)
                    if (item.KeyValue is not null) AddKeyValue(table, item.KeyValue);
                return table;
            default:
                // Date-times: no TunLB key takes one; only their presence matters for type errors.
                return new TScalar { Value = new DateTimeMarker(), Line = line, Column = col };
        }
    }

    private sealed class DateTimeMarker;

    private static List<string> KeyParts(KeySyntax key)
    {
        var parts = new List<string>();
        Add(key.Key);
        if (key.DotKeys is not null)
            foreach (var d in key.DotKeys) Add(d.Key);
        return parts;

        void Add(BareKeyOrStringValueSyntax? k)
        {
            switch (k)
            {
                case BareKeySyntax b when b.Key is not null: parts.Add(b.Key.Text ?? ""); break;
                case StringValueSyntax s: parts.Add(s.Value ?? ""); break;
            }
        }
    }

    [GeneratedRegex("^The key `([^`]*)` is already defined")]
    private static partial Regex DefinedKeyRegex();
}
