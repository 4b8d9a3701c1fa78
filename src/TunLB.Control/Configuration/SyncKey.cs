using System.Globalization;

namespace TunLB.Control.Configuration;

/// <summary>One <c>[sync]</c> key (<see cref="DirectorKeys.Sync"/>): name, reading and writing back, as <see cref="DirectorKey"/>.</summary>
public sealed class SyncKey
{
    private readonly Func<SyncSettings, string?> _toml;
    private readonly Func<TableReader, SyncSettings, SyncSettings> _read;

    private SyncKey(string name, Func<SyncSettings, string?> toml, Func<TableReader, SyncSettings, SyncSettings> read, bool secret)
    {
        Name = name; _toml = toml; _read = read; Secret = secret;
    }

    public string Name { get; }
    public bool Secret { get; }

    /// <summary>The value as TOML text; null = left out.</summary>
    public string? Toml(SyncSettings s) => _toml(s);

    internal SyncSettings Read(TableReader r, SyncSettings s) => _read(r, s);

    internal static SyncKey Custom(string name, Func<SyncSettings, string?> toml, Func<TableReader, SyncSettings, SyncSettings> read,
        bool secret = false) => new(name, toml, read, secret);

    internal static SyncKey Int(string name, Func<SyncSettings, int> get, Func<TableReader, SyncSettings, SyncSettings> read) =>
        new(name, s => get(s).ToString(CultureInfo.InvariantCulture), read, false);
}
