namespace TunLB.Core.Packets;

/// <summary>Why a packet was dropped. Each reason has its own counter; names are used in metrics.</summary>
public enum DropReason : byte
{
    None = 0,
    /// <summary>Shorter than the headers it claims.</summary>
    Truncated,
    /// <summary>Not IPv4 (or IPv6 where unsupported).</summary>
    BadVersion,
    /// <summary>IHL below 5 or beyond the packet.</summary>
    BadHeaderLength,
    /// <summary>Total length field inconsistent with the bytes received.</summary>
    BadTotalLength,
    /// <summary>IPv4 header checksum wrong.</summary>
    BadChecksum,
    /// <summary>A non-first fragment: no ports to look up. The parser's verdict; the engine routes such fragments
    /// through its fragment table, the real-server filter refuses fragmented outer packets.</summary>
    Fragment,
    /// <summary>Transport protocol that no service uses.</summary>
    UnsupportedProtocol,
    /// <summary>Destination address/port/protocol matches no virtual service.</summary>
    NoService,
    /// <summary>TCP packet without SYN and no connection entry (as IPVS without sloppy_tcp).</summary>
    TcpNoConnection,
    /// <summary>The scheduler found no available real server.</summary>
    NoDestination,
    /// <summary>Connection table full and the policy refuses new entries.</summary>
    ConnTableFull,
    /// <summary>The connection's real server was deleted (expire_nodest_conn).</summary>
    DestinationGone,
    /// <summary>Output buffer too small for the encapsulated packet.</summary>
    TooBig,
    /// <summary>Real server: IPIP from a source that is not a configured director.</summary>
    NotFromDirector,
    /// <summary>Real server: inner destination is not a configured VIP.</summary>
    InnerNotVip,
    /// <summary>Real server: outer protocol is not IPIP.</summary>
    NotTunnel,
    /// <summary>Sending failed in the I/O layer.</summary>
    SendError,

    // Appended later; numeric values above are stable (metrics and API consumers index by them).

    /// <summary>An ICMP error for a VIP quotes a flow that has no live connection.</summary>
    IcmpNoFlow,
    /// <summary>An ICMP/ICMPv6 message the director does not handle (redirects, echo when answer_ping is off, ...).</summary>
    IcmpUnsupported,
    /// <summary>An ICMP message too short for what it claims, with a bad checksum, or quoting an unusable packet.</summary>
    BadIcmp,
    /// <summary>An ICMP message the director would have generated was suppressed by the rate limit.</summary>
    IcmpRateLimited,
    /// <summary>Packet with DF (or any IPv6 packet) too big for the real server's path MTU: frag-needed / Packet Too Big was sent to the client.</summary>
    FragNeeded,
    /// <summary>A fragment overlaps one already seen for the same datagram.</summary>
    FragmentOverlap,
    /// <summary>A fragment that would end beyond 65535 bytes of datagram.</summary>
    FragmentOversized,
    /// <summary>Real server: a GUE packet with an unsupported version, control bit, header length or inner protocol.</summary>
    BadGue,
}

public static class DropReasons
{
    public const int Count = (int)DropReason.BadGue + 1;

    /// <summary>snake_case names used in logs, API and metrics labels.</summary>
    public static readonly string[] Names =
    [
        "none", "truncated", "bad_version", "bad_header_length", "bad_total_length", "bad_checksum",
        "fragment", "unsupported_protocol", "no_service", "tcp_no_connection", "no_destination",
        "conn_table_full", "destination_gone", "too_big", "not_from_director", "inner_not_vip",
        "not_tunnel", "send_error",
        "icmp_no_flow", "icmp_unsupported", "bad_icmp", "icmp_rate_limited", "frag_needed", "fragment_overlap",
        "fragment_oversized", "bad_gue",
    ];

    public static string Name(this DropReason r) => Names[(int)r];
}
