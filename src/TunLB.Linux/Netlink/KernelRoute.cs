using TunLB.Core.Flows;

namespace TunLB.Linux.Netlink;

/// <summary>
/// The kernel's answer to a route lookup for one destination (`ip route get`): <paramref name="Type"/> is the rtm_type
/// (RTN_*), <paramref name="OutIfIndex"/> the output device (0 when absent), <paramref name="Gateway"/> the next hop
/// when it is not the destination itself (RTA_GATEWAY, or RTA_VIA, which may be of the other family).
/// </summary>
internal sealed record KernelRoute(IpAddress Destination, byte Type, int OutIfIndex, IpAddress? Gateway);
