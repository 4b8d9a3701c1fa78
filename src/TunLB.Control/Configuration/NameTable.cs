namespace TunLB.Control.Configuration;

/// <summary>
/// The spellings of an enum's values in config files and the API, in the order error messages list them. The loader
/// parses a value once; the renderer and messages write it back with the same spelling.
/// </summary>
public sealed class NameTable<T> where T : struct, Enum
{
    private readonly (T Value, string Name)[] _entries;

    public NameTable(params (T Value, string Name)[] entries)
    {
        _entries = entries;
        Names = entries.Select(e => e.Name).ToArray();
    }

    /// <summary>Every spelling, in table order.</summary>
    public IReadOnlyList<string> Names { get; }

    public string Name(T value)
    {
        foreach (var e in _entries)
            if (EqualityComparer<T>.Default.Equals(e.Value, value)) return e.Name;
        throw new ArgumentOutOfRangeException(nameof(value), value, $"no name for {typeof(T).Name}.{value}");
    }

    public bool TryParse(string? text, out T value)
    {
        foreach (var e in _entries)
        {
            if (e.Name != text) continue;
            value = e.Value;
            return true;
        }
        value = default;
        return false;
    }
}
