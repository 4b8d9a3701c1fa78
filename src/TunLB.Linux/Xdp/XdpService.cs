using TunLB.Core.Flows;

namespace TunLB.Linux.Xdp;

/// <summary>A service the XDP program steers: TCP (6) or UDP (17) to <see cref="Vip"/> and <see cref="Port"/>; port 0 = every port.</summary>
public readonly record struct XdpService(IpAddress Vip, byte Protocol, ushort Port);
