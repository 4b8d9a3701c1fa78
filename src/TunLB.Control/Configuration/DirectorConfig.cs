using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;

namespace TunLB.Control.Configuration;

/// <summary>A validated director configuration (director.toml).</summary>
public sealed record DirectorConfig(DirectorSettings Director, IReadOnlyList<ServiceConfig> Services, string SourcePath)
{
    /// <summary>The <c>[sync]</c> table (off when absent).</summary>
    public SyncSettings Sync { get; init; } = SyncSettings.Defaults;
}

/// <summary>The <c>[director]</c> table. Property initializers are the defaults.</summary>
public sealed partial record DirectorSettings
{
    /// <summary>Every key at its default (the property initializers below).</summary>
    public static DirectorSettings Defaults { get; } = new();

    /// <summary>The <c>api</c> value as written, <c>host:port</c> or <c>[v6]:port</c>.</summary>
    public string Api { get; init; } = "127.0.0.1:9400";
    /// <summary>Host part of <see cref="Api"/>, without brackets (an IP literal or a host name).</summary>
    public string ApiHost { get; init; } = "127.0.0.1";
    public int ApiPort { get; init; } = 9400;
    /// <summary>Bearer token for the management API; empty = no token.</summary>
    public string ApiToken { get; init; } = "";
    public string TunName { get; init; } = "tunlb0";
    /// <summary>Capture backend (<c>io</c>).</summary>
    public IoBackend Io { get; init; } = IoBackend.Auto;
    /// <summary>
    /// Interfaces the afpacket or xdp backend takes VIP traffic from; empty = all (afpacket) or every Ethernet device with
    /// a route (xdp). Not with io = "tun".
    /// </summary>
    public IReadOnlyList<string> CaptureInterfaces { get; init; } = [];
    public int TunMtu { get; init; } = 1480;
    /// <summary>TTL of the outer (IPIP) header.</summary>
    public int Ttl { get; init; } = 64;
    public int ConnMax { get; init; } = 1_000_000;
    /// <summary>
    /// What to do when the connection table is full: "evict_oldest" (drop the least recently used
    /// entry) or "refuse" (drop the new connection's packet). Always one of those two.
    /// </summary>
    public string ConnFullPolicy { get; init; } = "evict_oldest";
    /// <summary>How tunnel packets leave (<c>tx</c>).</summary>
    public TxMode Tx { get; init; } = TxMode.Auto;
    /// <summary>Microseconds a worker keeps looking for packets without sleeping after a batch (<c>busy_poll_us</c>, 0..1000; 0 = off).</summary>
    public int BusyPollUs { get; init; } = DefaultBusyPollUs;
    public const int DefaultBusyPollUs = 0;
    public const int MaxBusyPollUs = 1000;
    /// <summary>Established TCP idle timeout in seconds (ipvsadm --set, 1st value).</summary>
    public int TimeoutTcp { get; init; } = 900;
    /// <summary>TCP timeout after FIN in seconds (ipvsadm --set, 2nd value).</summary>
    public int TimeoutTcpFin { get; init; } = 120;
    /// <summary>UDP timeout in seconds (ipvsadm --set, 3rd value).</summary>
    public int TimeoutUdp { get; init; } = 300;
    public bool SloppyTcp { get; init; }
    public bool ExpireQuiescentTemplate { get; init; }
    public bool RestoreInnerTtl { get; init; } = true;
    /// <summary>Answer ICMP / ICMPv6 echo requests to VIPs from the director.</summary>
    public bool AnswerPing { get; init; } = true;
    /// <summary>ICMP messages the director may generate per second (echo replies, frag-needed, Packet Too Big).</summary>
    public int IcmpRate { get; init; } = 100;
    /// <summary>ICMP messages that may be generated at once after a quiet period.</summary>
    public int IcmpBurst { get; init; } = 50;
    /// <summary>Fragmented datagrams tracked at once (which real server their fragments go to).</summary>
    public int FragMax { get; init; } = 16384;
    /// <summary>
    /// Seconds a path MTU learned from a router's frag-needed / Packet Too Big holds before the real server's MTU
    /// goes back to the configured or route MTU (as net.ipv4.route.mtu_expires); 0 = for ever.
    /// </summary>
    public int PmtuExpires { get; init; } = 600;
    /// <summary>
    /// Data-path workers, each with its own TUN queue and connection table: 1..64, or 0 for "auto" (one per
    /// processor). See <see cref="EffectiveWorkers"/>.
    /// </summary>
    public int Workers { get; init; } = 1;
    /// <summary>
    /// Keep one route per VIP this director can serve in <see cref="AnnounceTable"/>, for a routing daemon (BIRD) to
    /// announce (docs/multi-director.md). Implies sloppy TCP (see <see cref="EffectiveSloppyTcp"/>).
    /// </summary>
    public bool Announce { get; init; }
    /// <summary>The kernel routing table of the announced routes (<c>announce_table</c>).</summary>
    public int AnnounceTable { get; init; } = 100;
    /// <summary>Seconds between withdrawing the VIPs and stopping on SIGTERM/SIGINT, with <see cref="Announce"/>.</summary>
    public int WithdrawGrace { get; init; } = 5;

    /// <summary>
    /// Whether TCP segments without SYN and without a connection are scheduled: <c>sloppy_tcp</c>, or always with
    /// <c>announce</c> (several directors behind ECMP: a director must take over the flows another one started).
    /// </summary>
    public bool EffectiveSloppyTcp => SloppyTcp || Announce;

    /// <summary>The number of workers to start: <see cref="Workers"/>, or the processor count (at most 64) for "auto".</summary>
    public int EffectiveWorkers => Workers > 0 ? Workers : Math.Clamp(Environment.ProcessorCount, 1, ConfigLoader.MaxWorkers);
}

/// <summary>One <c>[[service]]</c> (an IPVS virtual service).</summary>
public sealed partial record ServiceConfig
{
    public required IpAddress Vip { get; init; }
    /// <summary>0 only together with persistence (all ports).</summary>
    public required ushort Port { get; init; }
    /// <summary>IP protocol number: 6 (TCP) or 17 (UDP).</summary>
    public byte Protocol { get; init; } = 6;
    /// <summary>"tcp" or "udp".</summary>
    public string ProtocolName { get; init; } = "tcp";
    /// <summary>One of rr wrr lc wlc sh dh mh sed nq.</summary>
    public string Scheduler { get; init; } = "wlc";
    /// <summary>Scheduler flags as written, e.g. "mh-port"; validated against <see cref="Scheduler"/>.</summary>
    public IReadOnlyList<string> SchedulerFlags { get; init; } = [];
    /// <summary>Maglev lookup table size (prime); only meaningful for the mh scheduler.</summary>
    public int MhTableSize { get; init; } = 65537;
    /// <summary>Persistence timeout in seconds; 0 = off.</summary>
    public int PersistenceSeconds { get; init; }
    /// <summary>Client netmask prefix length for persistence: 32 (IPv4) / 128 (IPv6) = per client.</summary>
    public int PersistencePrefix { get; init; } = 32;
    public IReadOnlyList<RealConfig> Reals { get; init; } = [];
    /// <summary>1-based line of the <c>[[service]]</c> header.</summary>
    public int Line { get; init; }

    public ServiceKey Key => new(Vip, Port, Protocol);
    public bool IsPersistent => PersistenceSeconds > 0;
}

/// <summary>One <c>[[service.real]]</c> (an IPVS destination).</summary>
public sealed record RealConfig
{
    public required IpAddress Address { get; init; }
    /// <summary>Defaults to the service port. Tunnel mode never rewrites ports.</summary>
    public required ushort Port { get; init; }
    /// <summary>0..65535; 0 = quiescent.</summary>
    public int Weight { get; init; } = 1;
    /// <summary>ipvsadm -x; 0 = none.</summary>
    public int UpperThreshold { get; init; }
    /// <summary>ipvsadm -y; 0 = none.</summary>
    public int LowerThreshold { get; init; }
    /// <summary>
    /// Path MTU toward this real server (outer packet size limit) in bytes; 0 = take it from the route to the server
    /// at start. Otherwise 576..65535 (1280..65535 for an IPv6 real server).
    /// </summary>
    public int Mtu { get; init; }
    /// <summary>IP-in-IP (protocol 4 / 41) or GUE over UDP; <c>encap</c> "ipip" or "gue".</summary>
    public EncapKind Encap { get; init; } = EncapKind.Ipip;
    /// <summary>GUE: UDP port on the real server.</summary>
    public int GuePort { get; init; } = Tunnel.DefaultGuePort;
    /// <summary>GUE over IPv4: fill the UDP checksum (always filled over IPv6).</summary>
    public bool GueChecksum { get; init; }
    /// <summary>Metadata: datacenter and provider of the real server (<c>site</c>, <c>provider</c>); shown with egress results.</summary>
    public string? Site { get; init; }
    public string? Provider { get; init; }
    /// <summary>1-based line of the <c>[[service.real]]</c> header.</summary>
    public int Line { get; init; }

    /// <summary>The settings of this real server, as the API and adm carry them too.</summary>
    public RealServerSettings Settings() =>
        new(Address, Port, Weight, UpperThreshold, LowerThreshold, Encap, (ushort)GuePort, GueChecksum, Mtu) { Site = Site, Provider = Provider };
}
