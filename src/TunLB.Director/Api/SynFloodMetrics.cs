using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>The SYN flood defence's families in /metrics (docs/robustness.md).</summary>
internal static class SynFloodMetrics
{
    public static void Render(Metrics.Writer w, SynFloodTotals f)
    {
        w.Gauge("tunlb_syn_flood_defence_active", "Data-path workers whose SYN flood defence is engaged (above syn_flood_rate).", f.WorkersActive);
        w.Counter("tunlb_syn_flood_engagements_total", "Times a worker's SYN flood defence engaged.", f.Engagements);
        w.Counter("tunlb_connection_table_evicted_half_open_total", "Half-open (SYN_RECV) entries evicted to make room (conn_half_open_fill).", f.EvictedHalfOpen);
        w.Gauge("tunlb_connection_table_half_open_entries", "Half-open (SYN_RECV) entries in the connection tables.", f.HalfOpen);
        w.Counter("tunlb_syn_flood_stateless_scheduled_total", "SYNs forwarded by flow hash without a table entry (syn_flood_mode stateless).", f.StatelessScheduled);
        w.Counter("tunlb_syn_flood_stateless_adopted_total", "Handshake-completing segments scheduled by the same flow hash and inserted.", f.StatelessAdopted);
    }
}
