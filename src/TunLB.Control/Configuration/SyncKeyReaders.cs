using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>The <c>[sync]</c> keys whose reading is more than a range check, and the rules between keys.</summary>
internal static class SyncKeyReaders
{
    /// <summary>A key shorter than this is refused: the MAC is only as strong as the secret.</summary>
    public const int MinKeyLength = 16;

    public static SyncSettings Peers(TableReader r, SyncSettings s)
    {
        var e = r.Get("peers");
        if (e is null) return s;
        if (e.Value is not TArray arr)
        {
            r.TypeError(e, "an array of peer addresses, like [\"192.0.2.2\", \"192.0.2.3\"]");
            return s;
        }
        var peers = new List<IpAddress>();
        for (int i = 0; i < arr.Items.Count; i++)
        {
            var item = arr.Items[i];
            var key = $"{r.KeyPath("peers")}[{i}]";
            if (item is not TScalar { Value: string text })
            {
                r.Error(item, key, $"expected an IP address (a string), got {item.Describe()}");
                continue;
            }
            if (!ConfigText.TryParseHostAddress(text, out var a, out var err)) { r.Error(item, key, err); continue; }
            if (peers.Contains(a)) { r.Error(item, key, $"peer {a} is listed twice"); continue; }
            peers.Add(a);
        }
        return s with { Peers = peers };
    }

    public static SyncSettings Bind(TableReader r, SyncSettings s) =>
        r.Get("bind") is { } e && r.TryHostAddress(e, out var a) ? s with { Bind = a } : s;

    public static SyncSettings Key(TableReader r, SyncSettings s)
    {
        if (r.Get("key") is not { } e || !r.TryString(e, out var text)) return s;
        if (text.Length < MinKeyLength)
        {
            r.Error(e, $"the key is {text.Length} characters long; use at least {MinKeyLength} (e.g. `openssl rand -hex 32`)");
            return s;
        }
        return s with { Key = text };
    }

    /// <summary><c>key_file</c>: the key is the file's content without its trailing newline, read now so --check sees a bad file.</summary>
    public static SyncSettings KeyFile(TableReader r, SyncSettings s)
    {
        if (r.Get("key_file") is not { } e || !r.TryString(e, out var path)) return s;
        if (r.Get("key") is not null)
        {
            r.Error(e, "give either key or key_file, not both");
            return s;
        }
        string text;
        try { text = File.ReadAllText(path).TrimEnd('\r', '\n'); }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            r.Error(e, $"cannot read the key file {path}: {ex.Message}");
            return s;
        }
        if (text.Length < MinKeyLength)
        {
            r.Error(e, $"the key in {path} is {text.Length} characters long; use at least {MinKeyLength}");
            return s;
        }
        return s with { Key = text, KeyFile = path };
    }

    /// <summary>Rules between keys, once every key is read: peers and a key when on, one family with bind.</summary>
    public static SyncSettings Check(TableReader r, SyncSettings s)
    {
        if (!s.Enabled) return s;
        bool peersGiven = r.Get("peers") is not null;
        if (s.Peers.Count == 0 && !peersGiven) r.ErrorAt("peers", "required when sync is enabled: the other directors' addresses");
        else if (s.Peers.Count == 0 && r.Get("peers") is { Value: TArray { Items.Count: 0 } }) r.ErrorAt("peers", "needs at least one peer");
        if (s.Key.Length == 0 && r.Get("key") is null && r.Get("key_file") is null)
            r.ErrorAt("key", "a shared secret (key or key_file) is required when sync is enabled");
        if (s.Bind is { } b)
            foreach (var p in s.Peers)
                if (p.IsV4 != b.IsV4)
                    r.ErrorAt("peers", $"peer {p} is {ConfigText.Family(p)} but bind {b} is {ConfigText.Family(b)}");
        return s;
    }
}
