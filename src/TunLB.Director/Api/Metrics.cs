using System.Globalization;
using System.Text;
using TunLB.Control.Configuration;
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
public static class Metrics
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static string Render(DirectorState state)
    {
        var w = new Writer();
        var view = state.View; // one published view: no lock, no working copy
        {
            var entries = view.Services;
            var drops = state.Drops();

            w.Family("tunlb_service_connections_total", "counter", "Connections scheduled for the virtual service (ipvsadm Conns).");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), e.Service.Connections);
            w.Family("tunlb_service_incoming_packets_total", "counter", "Packets from clients forwarded for the virtual service (ipvsadm InPkts).");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), e.Service.InPackets);
            w.Family("tunlb_service_incoming_bytes_total", "counter", "Bytes (inner IP packets) from clients forwarded for the virtual service (ipvsadm InBytes).");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), e.Service.InBytes);
            w.Family("tunlb_service_outgoing_packets_total", "counter", "Packets to clients through the director: always 0 in tunnel mode (replies go direct).");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), 0);
            w.Family("tunlb_service_backends", "gauge", "Real servers configured for the virtual service.");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), e.Service.Destinations.Length);
            w.Family("tunlb_service_adopted_connections_total", "counter", "TCP flows first seen without SYN and scheduled anyway (taken over from another director; sloppy_tcp).");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), e.Service.Adopted);

            w.Family("tunlb_backend_connections_active", "gauge", "Connections to the real server in ESTABLISHED state (ipvsadm ActiveConn).");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.ActiveConnections));
            w.Family("tunlb_backend_connections_inactive", "gauge", "Connections to the real server in any other state (ipvsadm InActConn).");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.InactiveConnections));
            w.Family("tunlb_backend_connections_persistent", "gauge", "Persistence templates pointing at the real server (ipvsadm PersistConn).");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.PersistentConnections));
            w.Family("tunlb_backend_connections_total", "counter", "Connections scheduled to the real server.");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.Connections));
            w.Family("tunlb_backend_incoming_packets_total", "counter", "Packets forwarded to the real server.");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.InPackets));
            w.Family("tunlb_backend_incoming_bytes_total", "counter", "Bytes (inner IP packets) forwarded to the real server.");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.InBytes));
            w.Family("tunlb_backend_weight", "gauge", "Scheduling weight of the real server (0 = quiescent).");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.Weight));
            w.Family("tunlb_backend_overloaded", "gauge", "1 when the real server reached its upper connection threshold.");
            Each(entries, (vs, d) => w.Sample(RealLabels(vs, d), d.IsOverloaded ? 1 : 0));

            // Health checking (HAProxy-like names: check_failures_total, check_up_down_total, last_change).
            var now = state.Time.GetUtcNow();
            w.Family("tunlb_backend_up", "gauge", "1 when the real server passes its health check (or has none), 0 when it failed it.");
            EachHealth(entries, (vs, d, h) => w.Sample(RealLabels(vs, d), h is { IsSorry: false, Up: false } ? 0 : 1));
            w.Family("tunlb_backend_check_failures_total", "counter", "Failed health checks of the real server.");
            EachHealth(entries, (vs, d, h) => w.Sample(RealLabels(vs, d), h?.Failures ?? 0));
            w.Family("tunlb_backend_check_up_down_total", "counter", "UP/DOWN transitions of the real server's health.");
            EachHealth(entries, (vs, d, h) => w.Sample(RealLabels(vs, d), h?.Transitions ?? 0));
            w.Family("tunlb_backend_check_duration_seconds", "gauge", "Duration of the real server's last health check.");
            EachHealth(entries, (vs, d, h) => w.Sample(RealLabels(vs, d), h?.Last?.Duration.TotalSeconds ?? 0));
            w.Family("tunlb_backend_last_change_seconds", "gauge", "Seconds since the real server's last health state change (or since it was added).");
            EachHealth(entries, (vs, d, h) => w.Sample(RealLabels(vs, d), h is null ? 0 : Math.Max(0, (now - h.LastChange).TotalSeconds)));
            w.Family("tunlb_backend_draining", "gauge", "1 while the real server is drained (API drain or agent drain/maint).");
            EachHealth(entries, (vs, d, h) => w.Sample(RealLabels(vs, d), h is not null && (h.Draining || h.Admin is global::TunLB.Health.AgentAdmin.Drain or global::TunLB.Health.AgentAdmin.Maint) ? 1 : 0));
            w.Family("tunlb_service_quorum_up", "gauge", "1 while the service has quorum (keepalived), 0 while its sorry server (if any) takes new connections.");
            foreach (var e in entries) w.Sample(SvcLabels(e.Service), e.QuorumUp ? 1 : 0);
            w.Family("tunlb_health_check_packets_total", "counter", "Health-check packets the data path forwarded through the tunnel (pinned flows).");
            w.Sample("", state.PinnedPackets);

            w.Family("tunlb_forwarded_packets_total", "counter", "IPIP packets handed to the kernel for sending.");
            w.Sample("", state.Sent.Packets);
            w.Family("tunlb_forwarded_bytes_total", "counter", "Bytes of IPIP packets (outer header included) handed to the kernel.");
            w.Sample("", state.Sent.Bytes);
            w.Family("tunlb_dropped_packets_total", "counter", "Packets dropped by the director, by reason.");
            for (int i = 1; i < DropReasons.Count; i++)
                w.Sample("{reason=\"" + Escape(DropReasons.Names[i]) + "\"}", drops[i]);

            w.Family("tunlb_connection_table_entries", "gauge", "Entries in the connection table (connections and persistence templates).");
            w.Sample("", state.ConnectionCount);
            w.Family("tunlb_connection_table_size", "gauge", "Capacity of the connection table (conn_max).");
            w.Sample("", state.ConnectionCapacity);
            w.Family("tunlb_connection_table_evictions_total", "counter", "Entries evicted to make room (conn_full_policy = evict_oldest).");
            w.Sample("", state.Evictions);
            w.Family("tunlb_connection_table_refusals_total", "counter", "New entries refused because the table was full.");
            w.Sample("", state.Refusals);

            SynFloodMetrics.Render(w, SynFloodTotals.Of(state.Engines));

            w.Family("tunlb_worker_connection_table_entries", "gauge", "Entries in one data-path worker's connection table.");
            foreach (var e in state.Engines) w.Sample("{worker=\"" + e.WorkerIndex + "\"}", e.Connections.Count);
            w.Family("tunlb_worker_forwarded_packets_total", "counter", "Packets one data-path worker encapsulated.");
            foreach (var e in state.Engines) w.Sample("{worker=\"" + e.WorkerIndex + "\"}", e.ForwardedPackets);

            if (state.Io is { } io)
            {
                w.Family("tunlb_io_backend", "gauge", "1 for the capture backend running (backend) and what the config asked for (requested).");
                w.Sample($"{{backend=\"{io.Backend.ConfigName()}\",requested=\"{io.Requested.ConfigName()}\"}}", 1);
            }
            if (view.Settings.Announce)
            {
                var announced = state.Announcement.Last.Announced;
                w.Family("tunlb_vip_announced", "gauge", "1 while the VIP has a route in announce_table (a routing daemon announces it), 0 while withheld.");
                foreach (var vip in view.Vips) w.Sample("{vip=\"" + Escape(vip.ToString()) + "\"}", announced.Contains(vip) ? 1 : 0);
                w.Family("tunlb_director_drained", "gauge", "1 while the director is drained (every VIP withdrawn through the API).");
                w.Sample("", state.Announcement.Drained ? 1 : 0);
            }
            if (state.Sync.Service is not null)
            {
                var s = Sync.SyncDto.From(state.Sync);
                w.Family("tunlb_sync_synced", "gauge", "1 once this director has its sync peers' tables (or resync_wait ran out).");
                w.Sample("", s.Synced ? 1 : 0);
                w.Family("tunlb_sync_messages_sent_total", "counter", "Sync messages (datagrams) sent to peer directors.");
                w.Sample("", s.MessagesSent);
                w.Family("tunlb_sync_messages_received_total", "counter", "Sync messages from peers that passed every check.");
                w.Sample("", s.MessagesReceived);
                w.Family("tunlb_sync_records_sent_total", "counter", "Connection records sent to peers (live, per peer; bulk answers apart).");
                w.Sample("", s.RecordsSent);
                w.Family("tunlb_sync_records_applied_total", "counter", "Peers' connection records inserted or updated in the connection table.");
                w.Sample("", s.RecordsApplied);
                w.Family("tunlb_sync_messages_dropped_total", "counter", "Received sync messages dropped, by reason.");
                foreach (var (why, n) in s.MessagesDropped) w.Sample("{reason=\"" + why + "\"}", n);
                w.Family("tunlb_sync_records_dropped_total", "counter", "Connection records not sent or not applied, by reason.");
                foreach (var (why, n) in s.RecordsDropped) w.Sample("{reason=\"" + why + "\"}", n);
            }
            w.Family("tunlb_services", "gauge", "Virtual services configured.");
            w.Sample("", entries.Count);
            w.Family("tunlb_config_reloads_total", "counter", "Configuration reloads (SIGHUP or API), by result.");
            w.Sample("{result=\"ok\"}", state.ReloadsOk);
            w.Sample("{result=\"failed\"}", state.ReloadsFailed);
            w.Family("tunlb_config_last_reload_successful", "gauge", "1 when the last reload succeeded (or none happened yet).");
            w.Sample("", state.LastReloadOk ? 1 : 0);
            w.Family("tunlb_config_last_reload_timestamp_seconds", "gauge", "Unix time of the last reload (or of the start).");
            w.Sample("", state.LastReloadTime.ToUnixTimeSeconds());
            ProcessMetrics.Render(w);
        }
        return w.ToString();
    }

    private static void Each(IReadOnlyList<ServiceView> services, Action<VirtualService, Destination> f)
    {
        foreach (var s in services)
            foreach (var r in s.Reals) f(s.Service, r.Dest);
    }

    private static void EachHealth(IReadOnlyList<ServiceView> services, Action<VirtualService, Destination, RealHealthView?> f)
    {
        foreach (var s in services)
            foreach (var r in s.Reals) f(s.Service, r.Dest, r.Health);
    }

    private static string SvcLabels(VirtualService vs) =>
        $"{{vip=\"{Escape(vs.Key.Vip.ToString())}\",port=\"{vs.Key.Port}\",proto=\"{Validate.ProtocolName(vs.Key.Protocol)}\"}}";

    private static string RealLabels(VirtualService vs, Destination d) =>
        $"{{vip=\"{Escape(vs.Key.Vip.ToString())}\",port=\"{vs.Key.Port}\",proto=\"{Validate.ProtocolName(vs.Key.Protocol)}\",real=\"{Escape(Validate.Endpoint(d.Address, d.Port))}\"}}";

    /// <summary>Label value escaping of the text format: backslash, double quote and line feed.</summary>
    public static string Escape(string v) => v.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");

    internal sealed class Writer
    {
        private readonly StringBuilder _sb = new();
        private string _name = "";

        public void Family(string name, string type, string help)
        {
            _name = name;
            _sb.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            _sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }

        public void Sample(string labels, long value) =>
            _sb.Append(_name).Append(labels).Append(' ').Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

        public void Sample(string labels, double value) =>
            _sb.Append(_name).Append(labels).Append(' ').Append(value.ToString("0.######", CultureInfo.InvariantCulture)).Append('\n');

        public override string ToString() => _sb.ToString();
    }
}
