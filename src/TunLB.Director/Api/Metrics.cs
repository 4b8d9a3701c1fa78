using TunLB.Control.Configuration;
using TunLB.Core.DataPath;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>
/// Prometheus text exposition format (version 0.0.4) for GET /metrics. Names follow node_exporter's ipvs
/// collector (connections/packets/bytes per service and backend, active/inactive connections, weight) and
/// HAProxy's server metrics (backend_*), with the tunlb_ prefix. Labels: vip, port, proto and, for backends,
/// real ("address:port", IPv6 in brackets).
/// </summary>
public static partial class Metrics
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(DirectorState state)
    {
        var w = new Writer();
        var view = state.View; // one published view: no lock, no working copy
        var entries = view.Services;
        var drops = state.Drops();

        w.Counter("tunlb_service_connections_total", "Connections scheduled for the virtual service (ipvsadm Conns).", entries, SvcLabels, e => e.Service.Connections);
        w.Counter("tunlb_service_incoming_packets_total", "Packets from clients forwarded for the virtual service (ipvsadm InPkts).", entries, SvcLabels, e => e.Service.InPackets);
        w.Counter("tunlb_service_incoming_bytes_total", "Bytes (inner IP packets) from clients forwarded for the virtual service (ipvsadm InBytes).", entries, SvcLabels, e => e.Service.InBytes);
        w.Counter("tunlb_service_outgoing_packets_total", "Packets to clients through the director: always 0 in tunnel mode (replies go direct).", entries, SvcLabels, _ => 0);
        w.Gauge("tunlb_service_backends", "Real servers configured for the virtual service.", entries, SvcLabels, e => e.Service.Destinations.Length);
        w.Counter("tunlb_service_adopted_connections_total", "TCP flows first seen without SYN and scheduled anyway (taken over from another director; sloppy_tcp).", entries, SvcLabels, e => e.Service.Adopted);

        var reals = Reals(entries);
        w.Gauge("tunlb_backend_connections_active", "Connections to the real server in ESTABLISHED state (ipvsadm ActiveConn).", reals, r => r.Labels, r => r.Dest.ActiveConnections);
        w.Gauge("tunlb_backend_connections_inactive", "Connections to the real server in any other state (ipvsadm InActConn).", reals, r => r.Labels, r => r.Dest.InactiveConnections);
        w.Gauge("tunlb_backend_connections_persistent", "Persistence templates pointing at the real server (ipvsadm PersistConn).", reals, r => r.Labels, r => r.Dest.PersistentConnections);
        w.Counter("tunlb_backend_connections_total", "Connections scheduled to the real server.", reals, r => r.Labels, r => r.Dest.Connections);
        w.Counter("tunlb_backend_incoming_packets_total", "Packets forwarded to the real server.", reals, r => r.Labels, r => r.Dest.InPackets);
        w.Counter("tunlb_backend_incoming_bytes_total", "Bytes (inner IP packets) forwarded to the real server.", reals, r => r.Labels, r => r.Dest.InBytes);
        w.Gauge("tunlb_backend_weight", "Scheduling weight of the real server (0 = quiescent).", reals, r => r.Labels, r => r.Dest.Weight);
        w.Gauge("tunlb_backend_overloaded", "1 when the real server reached its upper connection threshold.", reals, r => r.Labels, r => r.Dest.IsOverloaded ? 1 : 0);

        // Health checking (HAProxy-like names: check_failures_total, check_up_down_total, last_change).
        var now = state.Time.GetUtcNow();
        w.Gauge("tunlb_backend_up", "1 when the real server passes its health check (or has none), 0 when it failed it.", reals, r => r.Labels, r => r.Health is { IsSorry: false, Up: false } ? 0 : 1);
        w.Counter("tunlb_backend_check_failures_total", "Failed health checks of the real server.", reals, r => r.Labels, r => r.Health?.Failures ?? 0);
        w.Counter("tunlb_backend_check_up_down_total", "UP/DOWN transitions of the real server's health.", reals, r => r.Labels, r => r.Health?.Transitions ?? 0);
        w.Gauge("tunlb_backend_check_duration_seconds", "Duration of the real server's last health check.", reals, r => r.Labels, r => r.Health?.Last?.Duration.TotalSeconds ?? 0);
        w.Gauge("tunlb_backend_last_change_seconds", "Seconds since the real server's last health state change (or since it was added).", reals, r => r.Labels, r => r.Health is null ? 0 : Math.Max(0, (now - r.Health.LastChange).TotalSeconds));
        w.Gauge("tunlb_backend_draining", "1 while the real server is drained (API drain or agent drain/maint).", reals, r => r.Labels, r => r.Health is { } h && (h.Draining || h.Admin is global::TunLB.Health.AgentAdmin.Drain or global::TunLB.Health.AgentAdmin.Maint) ? 1 : 0);
        w.Gauge("tunlb_service_quorum_up", "1 while the service has quorum (keepalived), 0 while its sorry server (if any) takes new connections.", entries, SvcLabels, e => e.QuorumUp ? 1 : 0);
        w.Counter("tunlb_health_check_packets_total", "Health-check packets the data path forwarded through the tunnel (pinned flows).", state.PinnedPackets);

        w.Counter("tunlb_forwarded_packets_total", "IPIP packets handed to the kernel for sending.", state.Sent.Packets);
        w.Counter("tunlb_forwarded_bytes_total", "Bytes of IPIP packets (outer header included) handed to the kernel.", state.Sent.Bytes);
        w.Counter("tunlb_dropped_packets_total", "Packets dropped by the director, by reason.", Enumerable.Range(1, DropReasons.Count - 1),
            i => Label("reason", DropReasons.Names[i]), i => drops[i]);

        w.Gauge("tunlb_connection_table_entries", "Entries in the connection table (connections and persistence templates).", state.ConnectionCount);
        w.Gauge("tunlb_connection_table_size", "Capacity of the connection table (conn_max).", state.ConnectionCapacity);
        w.Counter("tunlb_connection_table_evictions_total", "Entries evicted to make room (conn_full_policy = evict_oldest).", state.Evictions);
        w.Counter("tunlb_connection_table_refusals_total", "New entries refused because the table was full.", state.Refusals);

        SynFloodMetrics.Render(w, SynFloodTotals.Of(state.Engines));
        DataPathMetrics.Render(w, state);

        w.Gauge("tunlb_worker_connection_table_entries", "Entries in one data-path worker's connection table.", state.Engines, WorkerLabel, e => e.Connections.Count);
        w.Counter("tunlb_worker_forwarded_packets_total", "Packets one data-path worker encapsulated.", state.Engines, WorkerLabel, e => e.ForwardedPackets);

        if (state.Io is { } io)
        {
            w.Family("tunlb_io_backend", "gauge", "1 for the capture backend running (backend) and what the config asked for (requested).");
            w.Sample($"{{backend=\"{io.Backend.ConfigName()}\",requested=\"{io.Requested.ConfigName()}\"}}", 1);
        }
        if (view.Settings.Announce)
        {
            var announced = state.Announcement.Last.Announced;
            w.Gauge("tunlb_vip_announced", "1 while the VIP has a route in announce_table (a routing daemon announces it), 0 while withheld.", view.Vips,
                vip => Label("vip", vip.ToString()), vip => announced.Contains(vip) ? 1 : 0);
            w.Gauge("tunlb_director_drained", "1 while the director is drained (every VIP withdrawn through the API).", state.Announcement.Drained ? 1 : 0);
        }
        if (state.Sync.Service is not null)
        {
            var s = Sync.SyncDto.From(state.Sync);
            w.Gauge("tunlb_sync_synced", "1 once this director has its sync peers' tables (or resync_wait ran out).", s.Synced ? 1 : 0);
            w.Counter("tunlb_sync_messages_sent_total", "Sync messages (datagrams) sent to peer directors.", s.MessagesSent);
            w.Counter("tunlb_sync_messages_received_total", "Sync messages from peers that passed every check.", s.MessagesReceived);
            w.Counter("tunlb_sync_records_sent_total", "Connection records sent to peers (live, per peer; bulk answers apart).", s.RecordsSent);
            w.Counter("tunlb_sync_records_applied_total", "Peers' connection records inserted or updated in the connection table.", s.RecordsApplied);
            w.Counter("tunlb_sync_messages_dropped_total", "Received sync messages dropped, by reason.", s.MessagesDropped, d => Label("reason", d.Key), d => d.Value);
            w.Counter("tunlb_sync_records_dropped_total", "Connection records not sent or not applied, by reason.", s.RecordsDropped, d => Label("reason", d.Key), d => d.Value);
        }
        w.Gauge("tunlb_services", "Virtual services configured.", entries.Count);
        w.Family("tunlb_config_reloads_total", "counter", "Configuration reloads (SIGHUP or API), by result.");
        w.Sample("{result=\"ok\"}", state.ReloadsOk);
        w.Sample("{result=\"failed\"}", state.ReloadsFailed);
        w.Gauge("tunlb_config_last_reload_successful", "1 when the last reload succeeded (or none happened yet).", state.LastReloadOk ? 1 : 0);
        w.Gauge("tunlb_config_last_reload_timestamp_seconds", "Unix time of the last reload (or of the start).", state.LastReloadTime.ToUnixTimeSeconds());
        ProcessMetrics.Render(w);
        return w.ToString();
    }

    /// <summary>A real server's labels, built once for all its families.</summary>
    private readonly record struct RealRow(string Labels, Destination Dest, RealHealthView? Health);

    private static List<RealRow> Reals(IReadOnlyList<ServiceView> services)
    {
        var rows = new List<RealRow>();
        foreach (var s in services)
            foreach (var r in s.Reals) rows.Add(new RealRow(RealLabels(s.Service, r.Dest), r.Dest, r.Health));
        return rows;
    }

    private static string SvcLabels(ServiceView e) => "{" + SvcPairs(e.Service) + "}";

    private static string RealLabels(VirtualService vs, Destination d) =>
        $"{{{SvcPairs(vs)},real=\"{Escape(Validate.Endpoint(d.Address, d.Port))}\"}}";

    private static string SvcPairs(VirtualService vs) =>
        $"vip=\"{Escape(vs.Key.Vip.ToString())}\",port=\"{vs.Key.Port}\",proto=\"{Validate.ProtocolName(vs.Key.Protocol)}\"";

    private static string WorkerLabel(DirectorEngine e) => "{worker=\"" + e.WorkerIndex + "\"}";

    private static string Label(string name, string value) => "{" + name + "=\"" + Escape(value) + "\"}";

    /// <summary>Label value escaping of the text format: backslash, double quote and line feed.</summary>
    public static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
