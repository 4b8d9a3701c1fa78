using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;

namespace TunLB.Core.Tests.DataPath;

/// <summary>The per-packet service lookup (open addressing, multiplicative hashing) against the dictionary of services.</summary>
public class DirectorEngineSnapshotTests
{
    [Theory]
    [InlineData(1, 0UL)]
    [InlineData(3, 1UL)]
    [InlineData(200, 0x5eedUL)]
    [InlineData(1000, 0xFFFF_FFFF_FFFF_FFFFUL)]
    public void FindService_finds_every_configured_key_and_nothing_else(int count, ulong seed)
    {
        var rnd = new Random(count);
        var services = new List<VirtualService>();
        var keys = new HashSet<ServiceKey>();
        while (services.Count < count)
        {
            // Few VIPs, many ports, both families and protocols: keys that differ in few bits.
            int v = rnd.Next(4);
            IpAddress vip = v < 2
                ? IpAddress.FromV4(0xCB00_710Au + (uint)v)
                : new IpAddress(0x2001_0db8_0000_0000UL, (ulong)v);
            var key = new ServiceKey(vip, (ushort)rnd.Next(0, 2000), rnd.Next(2) == 0 ? IpProtocol.Tcp : IpProtocol.Udp);
            if (!keys.Add(key)) continue;
            services.Add(new VirtualService(key, SchedulerFactory.Create("rr"), []));
        }
        var snap = new DirectorEngineSnapshot(services, seed);
        foreach (var s in services)
            Assert.Same(s, snap.FindService(s.Key.Vip, s.Key.Port, s.Key.Protocol));
        for (int i = 0; i < 20_000; i++)
        {
            int v = rnd.Next(6);
            IpAddress vip = v < 3 ? IpAddress.FromV4(0xCB00_710Au + (uint)v) : new IpAddress(0x2001_0db8_0000_0000UL, (ulong)(v - 1));
            var key = new ServiceKey(vip, (ushort)rnd.Next(0, 65536), (byte)(rnd.Next(3) switch { 0 => IpProtocol.Tcp, 1 => IpProtocol.Udp, _ => 132 }));
            var found = snap.FindService(key.Vip, key.Port, key.Protocol);
            if (keys.Contains(key)) Assert.Equal(key, found!.Key);
            else Assert.Null(found);
        }
    }

    [Fact]
    public void Empty_snapshot_finds_nothing() =>
        Assert.Null(DirectorEngineSnapshot.Empty.FindService(IpAddress.FromV4(0x0A000001), 80, IpProtocol.Tcp));
}
