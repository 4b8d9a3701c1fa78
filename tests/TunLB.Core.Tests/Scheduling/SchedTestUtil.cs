using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Scheduling;

namespace TunLB.Core.Tests.Scheduling;

internal static class SchedTestUtil
{
    private static int s_nextId = 1;

    public static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10");

    public static Destination Dest(string address, ushort port = 80, int weight = 1) =>
        new(Interlocked.Increment(ref s_nextId), IpAddress.Parse(address), port, weight);

    /// <summary>n destinations 10.0.x.y:80 with the given weights (all 1 when null).</summary>
    public static Destination[] Dests(int n, Func<int, int>? weight = null)
    {
        var a = new Destination[n];
        for (int i = 0; i < n; i++)
            a[i] = new Destination(Interlocked.Increment(ref s_nextId),
                IpAddress.FromV4(0x0A00_0000u + (uint)(i + 1)), 80, weight?.Invoke(i) ?? 1);
        return a;
    }

    public static Destination[] Dests(params int[] weights) => Dests(weights.Length, i => weights[i]);

    public static FlowKey Flow(uint src, ushort sport = 40000, IpAddress? dst = null) =>
        new(IpAddress.FromV4(src), dst ?? Vip, sport, 80, 6);

    /// <summary>Deterministic pseudo-random flows (seeded System.Random is stable across runs).</summary>
    public static FlowKey[] RandomFlows(int count, int seed = 12345)
    {
        var r = new Random(seed);
        var a = new FlowKey[count];
        for (int i = 0; i < count; i++)
            a[i] = Flow((uint)r.NextInt64(0, 1L << 32), (ushort)r.Next(1024, 65536));
        return a;
    }

    public static IScheduler Create(string name, int tableSize = 65537, params string[] flags) =>
        SchedulerFactory.Create(name, new SchedulerOptions(tableSize, flags.Length == 0 ? null : new HashSet<string>(flags)));

    public static IScheduler Updated(IScheduler s, Destination[] d) { s.Update(d); return s; }

    /// <summary>How many times each destination (by array index) is chosen.</summary>
    public static int[] Counts(IScheduler s, Destination[] d, ReadOnlySpan<FlowKey> flows, out int nulls)
    {
        var counts = new int[d.Length];
        nulls = 0;
        foreach (ref readonly FlowKey f in flows)
        {
            Destination? x = s.Schedule(f, d);
            if (x is null) { nulls++; continue; }
            counts[Array.IndexOf(d, x)]++;
        }
        return counts;
    }

    public static void Connect(Destination d, int active = 1, int inactive = 0)
    {
        d.ActiveConnections += active;
        d.InactiveConnections += inactive;
    }
}
