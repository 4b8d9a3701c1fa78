using TunLB.Director.Management;

namespace TunLB.Director.Api;

/// <summary>The SYN flood defence's families in /metrics (docs/robustness.md).</summary>
internal static class SynFloodMetrics
{
    public static void Render(Metrics.Writer w, SynFloodTotals f)
    {
        w.Family("tunlb_syn_flood_defence_active", "gauge", "Data-path workers whose SYN flood defence is engaged (above syn_flood_rate).");
        w.Sample("", f.WorkersActive);
        w.Family("tunlb_syn_flood_engagements_total", "counter", "Times a worker's SYN flood defence engaged.");
        w.Sample("", f.Engagements);
        w.Family("tunlb_connection_table_evicted_half_open_total", "counter", "Half-open (SYN_RECV) entries evicted to make room (conn_half_open_fill).");
        w.Sample("", f.EvictedHalfOpen);
        w.Family("tunlb_connection_table_half_open_entries", "gauge", "Half-open (SYN_RECV) entries in the connection tables.");
        w.Sample("", f.HalfOpen);
        w.Family("tunlb_syn_flood_stateless_scheduled_total", "counter", "SYNs forwarded by flow hash without a table entry (syn_flood_mode stateless).");
        w.Sample("", f.StatelessScheduled);
        w.Family("tunlb_syn_flood_stateless_adopted_total", "counter", "Handshake-completing segments scheduled by the same flow hash and inserted.");
        w.Sample("", f.StatelessAdopted);
    }
}
