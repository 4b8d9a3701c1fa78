using static TunLB.Control.Configuration.ConfigLoader;
using static TunLB.Control.Configuration.KeyReload;

namespace TunLB.Control.Configuration;

/// <summary>
/// Every <c>[director]</c> key, once: the loader's known keys and reading, the renderer's output (in this order) and the
/// reload's restart-only list all come from <see cref="All"/>.
/// </summary>
public static class DirectorKeys
{
    public static readonly IReadOnlyList<DirectorKey> All =
    [
        DirectorKey.Custom("api", NeedsRestart, s => TomlValue.String(s.Api), s => s.Api, DirectorKeyReaders.Api),
        DirectorKey.SecretString("api_token", NeedsRestart, s => s.ApiToken, (r, d) => d with { ApiToken = r.String("api_token") ?? d.ApiToken }),
        DirectorKey.String("tun_name", NeedsRestart, s => s.TunName, DirectorKeyReaders.TunName),
        DirectorKey.Int("tun_mtu", NeedsRestart, s => s.TunMtu, (r, d) => d with { TunMtu = r.Int("tun_mtu", MinTunMtu, MaxTunMtu, d.TunMtu) }),
        DirectorKey.Named("io", NeedsRestart, ConfigNames.Io, s => s.Io, (r, d) => d with { Io = r.OneOf("io", ConfigNames.Io, "io") ?? d.Io }),
        DirectorKey.Custom("capture_interfaces", NeedsRestart,
            s => s.CaptureInterfaces.Count > 0 ? TomlValue.StringArray(s.CaptureInterfaces) : null, // [] with io = "tun" is an error
            s => string.Join(",", s.CaptureInterfaces), DirectorKeyReaders.CaptureInterfaces),
        DirectorKey.Int("ttl", NeedsRestart, s => s.Ttl, (r, d) => d with { Ttl = r.Int("ttl", 1, 255, d.Ttl) }),
        DirectorKey.Int("conn_max", NeedsRestart, s => s.ConnMax, (r, d) => d with { ConnMax = r.Int("conn_max", 1, MaxConnMax, d.ConnMax) }),
        DirectorKey.String("conn_full_policy", NeedsRestart, s => s.ConnFullPolicy,
            (r, d) => d with { ConnFullPolicy = r.OneOf("conn_full_policy", ConnFullPolicies, "conn_full_policy") ?? d.ConnFullPolicy }),
        DirectorKey.Int("timeout_tcp", Applied, s => s.TimeoutTcp,
            (r, d) => d with { TimeoutTcp = r.Int("timeout_tcp", 1, MaxTimeoutSeconds, d.TimeoutTcp) }),
        DirectorKey.Int("timeout_tcp_fin", Applied, s => s.TimeoutTcpFin,
            (r, d) => d with { TimeoutTcpFin = r.Int("timeout_tcp_fin", 1, MaxTimeoutSeconds, d.TimeoutTcpFin) }),
        DirectorKey.Int("timeout_udp", Applied, s => s.TimeoutUdp,
            (r, d) => d with { TimeoutUdp = r.Int("timeout_udp", 1, MaxTimeoutSeconds, d.TimeoutUdp) }),
        DirectorKey.Bool("sloppy_tcp", NeedsRestart, s => s.SloppyTcp, (r, d) => d with { SloppyTcp = r.Bool("sloppy_tcp", d.SloppyTcp) }),
        DirectorKey.Bool("expire_quiescent_template", NeedsRestart, s => s.ExpireQuiescentTemplate,
            (r, d) => d with { ExpireQuiescentTemplate = r.Bool("expire_quiescent_template", d.ExpireQuiescentTemplate) }),
        DirectorKey.Bool("restore_inner_ttl", NeedsRestart, s => s.RestoreInnerTtl,
            (r, d) => d with { RestoreInnerTtl = r.Bool("restore_inner_ttl", d.RestoreInnerTtl) }),
        DirectorKey.Bool("answer_ping", NeedsRestart, s => s.AnswerPing, (r, d) => d with { AnswerPing = r.Bool("answer_ping", d.AnswerPing) }),
        DirectorKey.Int("icmp_rate", NeedsRestart, s => s.IcmpRate, (r, d) => d with { IcmpRate = r.Int("icmp_rate", 1, MaxIcmpRate, d.IcmpRate) }),
        DirectorKey.Int("icmp_burst", NeedsRestart, s => s.IcmpBurst, (r, d) => d with { IcmpBurst = r.Int("icmp_burst", 1, MaxIcmpRate, d.IcmpBurst) }),
        DirectorKey.Int("frag_max", NeedsRestart, s => s.FragMax,
            (r, d) => d with { FragMax = r.Int("frag_max", FragmentTableMinimum, MaxFragMax, d.FragMax) }),
        DirectorKey.Named("tx", NeedsRestart, ConfigNames.Tx, s => s.Tx, (r, d) => d with { Tx = r.OneOf("tx", ConfigNames.Tx, "tx") ?? d.Tx }),
        DirectorKey.Int("busy_poll_us", NeedsRestart, s => s.BusyPollUs,
            (r, d) => d with { BusyPollUs = r.Int("busy_poll_us", 0, DirectorSettings.MaxBusyPollUs, d.BusyPollUs) }),
        DirectorKey.Int("pmtu_expires", NeedsRestart, s => s.PmtuExpires,
            (r, d) => d with { PmtuExpires = r.Int("pmtu_expires", 0, MaxTimeoutSeconds, d.PmtuExpires) }),
        DirectorKey.Custom("workers", NeedsRestart, s => s.Workers == 0 ? TomlValue.String("auto") : TomlValue.Int(s.Workers),
            s => s.Workers == 0 ? "auto" : TomlValue.Int(s.Workers), DirectorKeyReaders.Workers),
        DirectorKey.String("check_port_range", NeedsRestart, s => s.CheckPortRange, HealthConfigReader.ReadDirector),
        DirectorKey.Bool("announce", NeedsRestart, s => s.Announce, (r, d) => d with { Announce = r.Bool("announce", d.Announce) }),
        DirectorKey.Int("announce_table", NeedsRestart, s => s.AnnounceTable, DirectorKeyReaders.AnnounceTable),
        DirectorKey.Int("withdraw_grace", NeedsRestart, s => s.WithdrawGrace,
            (r, d) => d with { WithdrawGrace = r.Int("withdraw_grace", 0, MaxWithdrawGrace, d.WithdrawGrace) }),
        DirectorKey.Int("syn_flood_rate", NeedsRestart, s => s.SynFloodRate,
            (r, d) => d with { SynFloodRate = r.Int("syn_flood_rate", 0, MaxSynFloodRate, d.SynFloodRate) }),
        DirectorKey.String("syn_flood_mode", NeedsRestart, s => s.SynFloodMode,
            (r, d) => d with { SynFloodMode = r.OneOf("syn_flood_mode", HardeningKeyReaders.SynFloodModes, "syn_flood_mode") ?? d.SynFloodMode }),
        DirectorKey.Int("syn_flood_synrecv_timeout", NeedsRestart, s => s.SynFloodSynRecvTimeout,
            (r, d) => d with { SynFloodSynRecvTimeout = r.Int("syn_flood_synrecv_timeout", 1, 60, d.SynFloodSynRecvTimeout) }),
        DirectorKey.Int("conn_half_open_fill", NeedsRestart, s => s.ConnHalfOpenFill,
            (r, d) => d with { ConnHalfOpenFill = r.Int("conn_half_open_fill", 0, 100, d.ConnHalfOpenFill) }),
        DirectorKey.String("api_tls_cert", NeedsRestart, s => s.ApiTlsCert, (r, d) => d with { ApiTlsCert = r.String("api_tls_cert") ?? d.ApiTlsCert }),
        DirectorKey.String("api_tls_key", NeedsRestart, s => s.ApiTlsKey, HardeningKeyReaders.ApiTlsKey),
    ];

    /// <summary>
    /// Every <c>[sync]</c> key (connection sync with peer directors, docs/connection-sync.md). All need a restart; the
    /// table's presence turns sync on (<c>enabled = false</c> keeps it off).
    /// </summary>
    public static readonly IReadOnlyList<SyncKey> Sync =
    [
        SyncKey.Custom("enabled", s => TomlValue.Bool(s.Enabled), (r, s) => s with { Enabled = r.Bool("enabled", true) }),
        SyncKey.Custom("peers", s => TomlValue.StringArray(s.Peers.Select(p => p.ToString())), SyncKeyReaders.Peers),
        SyncKey.Int("port", s => s.Port, (r, s) => s with { Port = r.Int("port", 1, 65535, s.Port) }),
        SyncKey.Custom("key", s => s.KeyFile.Length == 0 ? TomlValue.String(s.Key) : null, SyncKeyReaders.Key, secret: true),
        SyncKey.Custom("key_file", s => s.KeyFile.Length > 0 ? TomlValue.String(s.KeyFile) : null, SyncKeyReaders.KeyFile),
        SyncKey.Custom("bind", s => s.Bind is { } b ? TomlValue.String(b.ToString()) : null, SyncKeyReaders.Bind),
        SyncKey.Int("syncid", s => s.SyncId, (r, s) => s with { SyncId = r.Int("syncid", 0, 255, s.SyncId) }),
        SyncKey.Int("max_messages_per_second", s => s.MaxMessagesPerSecond,
            (r, s) => s with { MaxMessagesPerSecond = r.Int("max_messages_per_second", 1, MaxSyncMessagesPerSecond, s.MaxMessagesPerSecond) }),
        SyncKey.Int("queue_length", s => s.QueueLength,
            (r, s) => s with { QueueLength = r.Int("queue_length", MinSyncQueueLength, MaxSyncQueueLength, s.QueueLength) }),
        SyncKey.Int("resync_wait", s => s.ResyncWait, (r, s) => s with { ResyncWait = r.Int("resync_wait", 0, MaxResyncWait, s.ResyncWait) }),
    ];

    /// <summary>The <c>[sync]</c> key names, in table order.</summary>
    public static readonly IReadOnlyList<string> SyncNames = Sync.Select(k => k.Name).ToArray();

    /// <summary>Reads a <c>[sync]</c> table (present: on unless <c>enabled = false</c>) and checks the rules between its keys.</summary>
    internal static SyncSettings ReadSync(TableReader r)
    {
        var s = SyncSettings.Defaults;
        foreach (var k in Sync) s = k.Read(r, s);
        return SyncKeyReaders.Check(r, s);
    }

    /// <summary>The key names, in table order.</summary>
    public static readonly IReadOnlyList<string> Names = All.Select(k => k.Name).ToArray();

    /// <summary>
    /// The restart-only keys whose value differs between <paramref name="before"/> and <paramref name="after"/>, with
    /// both values as messages show them: a reload reports "KEY changed (BEFORE -> AFTER) but needs a restart".
    /// </summary>
    public static IEnumerable<(string Key, string Before, string After)> RestartOnly(DirectorSettings before, DirectorSettings after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        foreach (var k in All)
        {
            if (!k.NeedsRestart || k.Toml(before) == k.Toml(after)) continue;
            string shownBefore = k.Show(before), shownAfter = k.Show(after);
            // A secret changed from one value to another still reads as a change: "(set) -> (another)".
            if (k.Secret && shownAfter == shownBefore) shownAfter = "(another)";
            yield return (k.Name, shownBefore, shownAfter);
        }
    }

    /// <summary>Reads every key of a <c>[director]</c> table, in table order.</summary>
    internal static DirectorSettings Read(TableReader r)
    {
        var d = DirectorSettings.Defaults;
        foreach (var k in All) d = k.Read(r, d);
        return d;
    }
}
