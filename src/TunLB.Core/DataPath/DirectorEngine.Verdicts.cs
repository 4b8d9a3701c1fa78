namespace TunLB.Core.DataPath;

// Every packet given to Process ends in exactly one verdict, so an operator (and the junk-flood test) can check
// Received = ForwardedPackets + Answered + the sum of Drops over every reason except send_error (an output's fate).
public sealed partial class DirectorEngine
{
    private long _received, _answered, _icmpSuppressed;

    /// <summary>Packets given to <see cref="Process"/>.</summary>
    public long Received => _received;

    /// <summary>Packets answered by the director itself instead of forwarded (echo requests to a VIP).</summary>
    public long Answered => _answered;

    /// <summary>
    /// Frag-needed / Packet Too Big messages not sent because of the ICMP rate limit. The packet that needed one is
    /// counted once, as <c>frag_needed</c>; this is not a packet verdict.
    /// </summary>
    public long IcmpSuppressed => _icmpSuppressed;
}
