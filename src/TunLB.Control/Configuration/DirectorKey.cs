using System.Globalization;

namespace TunLB.Control.Configuration;

/// <summary>Whether a reload applies a changed key or only reports that it needs a restart.</summary>
public enum KeyReload
{
    Applied,
    NeedsRestart,
}

/// <summary>
/// One <c>[director]</c> key (<see cref="DirectorKeys"/>): its name, whether a reload can change it, how it is read and
/// how it is written back. Its default is the <see cref="DirectorSettings"/> property initializer's.
/// </summary>
public sealed class DirectorKey
{
    private readonly Func<DirectorSettings, string?> _toml;
    private readonly Func<DirectorSettings, string> _show;
    private readonly Func<TableReader, DirectorSettings, DirectorSettings> _read;

    private DirectorKey(string name, KeyReload reload, Func<DirectorSettings, string?> toml, Func<DirectorSettings, string> show,
        Func<TableReader, DirectorSettings, DirectorSettings> read, bool secret = false)
    {
        Name = name; Reload = reload; _toml = toml; _show = show; _read = read; Secret = secret;
    }

    public string Name { get; }
    public KeyReload Reload { get; }
    /// <summary>Messages never show the value (<see cref="Show"/> only says whether it is set).</summary>
    public bool Secret { get; }
    public bool NeedsRestart => Reload == KeyReload.NeedsRestart;

    /// <summary>The value as TOML text; null = the key is left out (an empty capture_interfaces).</summary>
    public string? Toml(DirectorSettings s) => _toml(s);

    /// <summary>The value as messages show it: plain, secrets hidden.</summary>
    public string Show(DirectorSettings s) => _show(s);

    /// <summary>The default value as TOML text (null: the key is left out by default).</summary>
    public string? Default => _toml(DirectorSettings.Defaults);

    /// <summary>Reads the key (if present) into <paramref name="d"/>; problems go to the reader's sink.</summary>
    internal DirectorSettings Read(TableReader r, DirectorSettings d) => _read(r, d);

    internal static DirectorKey Custom(string name, KeyReload reload, Func<DirectorSettings, string?> toml,
        Func<DirectorSettings, string> show, Func<TableReader, DirectorSettings, DirectorSettings> read) =>
        new(name, reload, toml, show, read);

    internal static DirectorKey SecretString(string name, KeyReload reload, Func<DirectorSettings, string> get,
        Func<TableReader, DirectorSettings, DirectorSettings> read) =>
        new(name, reload, s => TomlValue.String(get(s)), s => get(s).Length == 0 ? "(none)" : "(set)", read, secret: true);

    internal static DirectorKey String(string name, KeyReload reload, Func<DirectorSettings, string> get,
        Func<TableReader, DirectorSettings, DirectorSettings> read) =>
        new(name, reload, s => TomlValue.String(get(s)), get, read);

    internal static DirectorKey Int(string name, KeyReload reload, Func<DirectorSettings, int> get,
        Func<TableReader, DirectorSettings, DirectorSettings> read) =>
        new(name, reload, s => TomlValue.Int(get(s)), s => get(s).ToString(CultureInfo.InvariantCulture), read);

    internal static DirectorKey Bool(string name, KeyReload reload, Func<DirectorSettings, bool> get,
        Func<TableReader, DirectorSettings, DirectorSettings> read) =>
        new(name, reload, s => TomlValue.Bool(get(s)), s => TomlValue.Bool(get(s)), read);

    /// <summary>An enum-valued key, spelled by <paramref name="names"/>.</summary>
    internal static DirectorKey Named<T>(string name, KeyReload reload, NameTable<T> names, Func<DirectorSettings, T> get,
        Func<TableReader, DirectorSettings, DirectorSettings> read) where T : struct, Enum =>
        new(name, reload, s => TomlValue.String(names.Name(get(s))), s => names.Name(get(s)), read);
}
