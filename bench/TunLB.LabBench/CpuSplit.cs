using System.Globalization;
using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>
/// Moves the next hops' receive work off the director's CPU. On veth the kernel delivers a sent packet synchronously in
/// the sender's context, so the director's utime+stime includes the receive processing of the next namespace (and of
/// every hop after it in the same softirq). With the director pinned to <see cref="DirectorCpu"/> and RPS on the next
/// hop's receiving veth steering to the other CPUs, netif_rx queues each packet to another CPU's backlog (IPI) and
/// that work is charged there; what stays on the director is its own work up to the veth's transmit.
/// </summary>
public sealed class CpuSplit : IDisposable
{
    private readonly Topology _t;
    private readonly (string Role, string Dev)[] _devs;

    private CpuSplit(Topology t, (string, string)[] devs) { _t = t; _devs = devs; }

    /// <summary>Possible only with two CPUs or more.</summary>
    public static bool Possible => Environment.ProcessorCount > 1;

    /// <summary>The last CPU: trafgen --cpus 1 pins itself to CPU 0.</summary>
    public static int DirectorCpu => Environment.ProcessorCount - 1;

    /// <summary>rps_cpus mask (comma-separated 32-bit hex groups, as sysfs prints them) of every CPU but the director's.</summary>
    public static string RpsMask
    {
        get
        {
            int n = Environment.ProcessorCount;
            var groups = new List<string>();
            for (int g = 0; g * 32 < n; g++)
            {
                uint m = 0;
                for (int c = g * 32; c < Math.Min(n, g * 32 + 32); c++)
                    if (c != DirectorCpu) m |= 1u << (c - g * 32);
                groups.Insert(0, m.ToString("x", CultureInfo.InvariantCulture));
            }
            return string.Join(",", groups);
        }
    }

    /// <summary>The command line that starts <paramref name="file"/> pinned to <see cref="DirectorCpu"/> (its threads inherit it).</summary>
    public static (string File, string[] Args) Pinned(string file, string[] args) =>
        ("taskset", ["-c", DirectorCpu.ToString(CultureInfo.InvariantCulture), file, .. args]);

    public static string Command(BenchTopology lab) =>
        $"taskset -c {DirectorCpu} tunlb director ...; echo {RpsMask} > /sys/class/net/DEV/queues/rx-0/rps_cpus   # DEV = " +
        string.Join(", ", lab.NextHops.Select(h => $"{h.Dev} in {h.Role}")) + " (the next hop's receiving veth); reset to 0 after";

    /// <summary>Turns RPS on on the next hops' receiving veths; dispose turns it off.</summary>
    public static CpuSplit Apply(BenchTopology lab)
    {
        var s = new CpuSplit(lab.Topology, lab.NextHops);
        foreach (var (role, dev) in lab.NextHops) s.Write(role, dev, RpsMask);
        return s;
    }

    private void Write(string role, string dev, string mask) =>
        _t.Exec(role, "sh", "-c", $"echo {mask} > /sys/class/net/{dev}/queues/rx-0/rps_cpus");

    public void Dispose()
    {
        foreach (var (role, dev) in _devs)
            try { Write(role, dev, "0"); } catch (InvalidOperationException) { }
    }
}
