namespace TunLB.Linux.Netlink;

/// <summary>
/// One network device: <paramref name="Type"/> is ifi_type (ARPHRD_*), <paramref name="Flags"/> ifi_flags (IFF_*),
/// <paramref name="Address"/> its own link-layer address (IFLA_ADDRESS, null when it has none).
/// </summary>
internal sealed record KernelLink(int Index, string Name, ushort Type, uint Flags, byte[]? Address, int Mtu);
