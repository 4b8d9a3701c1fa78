using TunLB.Core.Flows;

namespace TunLB.Core.Model;

/// <summary>
/// One real server of one virtual service (an IPVS "dest"). Identity (Id) is stable for the
/// destination's lifetime and is what connection entries refer to. Weight and counters are
/// mutable: the control plane writes Weight, the data-path worker owns the counters.
/// </summary>
public sealed class Destination
{
    public Destination(int id, IpAddress address, ushort port, int weight)
    {
        Id = id; Address = address; Port = port; Weight = weight;
    }

    /// <summary>Stable identity referenced by connection entries; never reused in one process.</summary>
    public int Id { get; }
    public IpAddress Address { get; }
    /// <summary>Real-server port (IPVS keeps it for display; tunnel mode never rewrites ports).</summary>
    public ushort Port { get; }

    /// <summary>Scheduling weight; 0 is quiescent (no new connections, existing ones go on).</summary>
    public volatile int Weight;

    /// <summary>Upper/lower connection thresholds (0 = none), as ipvsadm -x / -y.</summary>
    public int UpperThreshold;
    public int LowerThreshold;

    /// <summary>Set false when the destination is deleted; its connections then stop being forwarded.</summary>
    public volatile bool Alive = true;

    /// <summary>
    /// Set by health checking (on_failure = "remove"): the destination is not scheduled, and its existing
    /// connections stop as if it were deleted (IPVS expire_nodest_conn), though it stays configured.
    /// </summary>
    public volatile bool HealthDown;

    /// <summary>Configured and not failed by health checking: may carry traffic.</summary>
    public bool Usable => Alive && !HealthDown;

    /// <summary>The director's source address toward this server (outer header source). Same family as <see cref="Address"/>.</summary>
    public IpAddress OuterSource;

    /// <summary>
    /// Path MTU toward this server in bytes (the outer packet's limit); 0 = unknown, no check (the kernel's send
    /// then fails for packets beyond the device MTU). The runtime sets it from config or the route.
    /// </summary>
    public volatile int Mtu;

    /// <summary>How packets are wrapped for this server: IP-in-IP (default) or GUE over UDP.</summary>
    public Packets.EncapKind Encap;

    /// <summary>GUE: UDP destination port on the real server.</summary>
    public ushort GuePort = Packets.Tunnel.DefaultGuePort;

    /// <summary>GUE over IPv4: compute the UDP checksum (over IPv6 it is always computed).</summary>
    public bool GueChecksum;

    // Connection counts, as ipvsadm shows them: active = ESTABLISHED, inactive = every other state. They change
    // only when a connection is created, changes between active and inactive, or is removed, and with several
    // data-path workers more than one thread changes them: the engine uses Interlocked (IPVS: atomic_t).
    public int ActiveConnections;
    public int InactiveConnections;
    /// <summary>Connections controlled by persistence templates (IPVS persistconns).</summary>
    public int PersistentConnections;

    /// <summary>Cumulative counters (IPVS stats), one slot per data-path worker; each worker writes only its own.</summary>
    public WorkerStatsSet Stats { get; } = new();

    /// <summary>Connections scheduled to this destination, summed over workers. Setting it sets the total (tests).</summary>
    public long Connections { get => Stats.Connections; set => Stats.SetTotals(value, null, null); }
    /// <summary>Packets forwarded to this destination, summed over workers.</summary>
    public long InPackets { get => Stats.InPackets; set => Stats.SetTotals(null, value, null); }
    /// <summary>Bytes (inner packets) forwarded to this destination, summed over workers.</summary>
    public long InBytes { get => Stats.InBytes; set => Stats.SetTotals(null, null, value); }

    /// <summary>Whether the scheduler may pick this destination for a new connection.</summary>
    public bool IsAvailable => Alive && !HealthDown && Weight > 0 && !IsOverloaded;

    /// <summary>IPVS overload: active+inactive reached the upper threshold.</summary>
    public bool IsOverloaded => UpperThreshold > 0 && ActiveConnections + InactiveConnections >= UpperThreshold;

    public override string ToString() => $"{Address}:{Port} w={Weight}";
}
