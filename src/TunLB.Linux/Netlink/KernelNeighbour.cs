using TunLB.Core.Flows;

namespace TunLB.Linux.Netlink;

/// <summary>One neighbour table entry: <paramref name="State"/> is ndm_state (NUD_* bits), <paramref name="LinkAddress"/> NDA_LLADDR.</summary>
internal sealed record KernelNeighbour(int IfIndex, IpAddress Address, byte[] LinkAddress, ushort State);
