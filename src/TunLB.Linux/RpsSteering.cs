using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace TunLB.Linux;

/// <summary>
/// Receive packet steering (RPS) on one receive queue of a device: <c>/sys/class/net/DEV/queues/rx-0/rps_cpus</c>.
/// A packet written into a TUN device is handed to <c>netif_receive_skb</c> in the writer's thread, so without RPS the
/// whole IP/TCP input of the receiving host (socket wake-ups, ACK processing, the data that ACK releases) runs inside
/// the writer's system call. With RPS the packet is queued to the backlog of a CPU chosen by flow hash and processed
/// there (an IPI and a softirq): the work still costs the host the same CPU, but no longer in the writer's thread,
/// and one writer no longer serialises every flow's receive work. Measured on a 2-CPU VM (docs/performance.md), the IPI
/// per written packet cost the writer about as much as the work it moved away. Uses this process's sysfs view, so it
/// must run in the device's network namespace (as `ip netns exec` arranges).
/// </summary>
public static class RpsSteering
{
    /// <summary>The sysfs file of <paramref name="device"/>'s first receive queue (TUN and veth have one unless multi-queue).</summary>
    public static string Path(string device) => $"/sys/class/net/{device}/queues/rx-0/rps_cpus";

    /// <summary>
    /// The CPUs to steer to: none with fewer than 2 online CPUs; the online CPUs outside <paramref name="affinity"/> when
    /// the process is pinned to a subset (then none of the work stays on its CPUs); otherwise every online CPU (a flow
    /// hashed to the CPU the writer runs on is still processed in its thread).
    /// </summary>
    public static IReadOnlyList<int> AutoCpus(IReadOnlyList<int> online, IReadOnlySet<int> affinity)
    {
        if (online.Count < 2) return [];
        var others = online.Where(c => !affinity.Contains(c)).ToList();
        return others.Count > 0 ? others : online;
    }

    /// <summary>The sysfs bitmap text for a CPU set: 32-bit hex groups separated by commas, highest first ("6", "1,00000000").</summary>
    public static string Mask(IEnumerable<int> cpus)
    {
        var set = cpus.ToHashSet();
        if (set.Count == 0) return "0";
        int groups = set.Max() / 32 + 1;
        var sb = new StringBuilder();
        for (int g = groups - 1; g >= 0; g--)
        {
            uint bits = 0;
            for (int b = 0; b < 32; b++) if (set.Contains(g * 32 + b)) bits |= 1u << b;
            if (sb.Length > 0) sb.Append(',').Append(bits.ToString("x8", CultureInfo.InvariantCulture));
            else sb.Append(bits.ToString("x", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Whether a sysfs bitmap ("0", "00000000,00000000", "3") has no bit set.</summary>
    public static bool IsEmpty(string mask) => mask.Trim().All(c => c is '0' or ',');

    /// <summary>Parses a kernel CPU list ("0-3,8,10-11", as in /sys/devices/system/cpu/online).</summary>
    public static IReadOnlyList<int> ParseCpuList(string text)
    {
        var cpus = new List<int>();
        foreach (var part in text.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var ends = part.Split('-');
            int lo = int.Parse(ends[0], CultureInfo.InvariantCulture), hi = ends.Length > 1 ? int.Parse(ends[1], CultureInfo.InvariantCulture) : lo;
            for (int c = lo; c <= hi; c++) cpus.Add(c);
        }
        return cpus;
    }

    /// <summary>
    /// "auto": sets the device's rps_cpus through <paramref name="net"/> (undone on exit, journalled) unless the host has
    /// one CPU or the mask is already set (by the operator or net.core.rps_default_mask), and says what it did.
    /// </summary>
    public static string ApplyAuto(HostNetwork net, string device)
    {
        IReadOnlyList<int> cpus;
        string path = Path(device);
        string mask;
        try
        {
            string current = net.ReadSysctl(path);
            if (!IsEmpty(current)) return $"RPS on {device} left at rps_cpus={current}";
            var online = OnlineCpus();
            cpus = AutoCpus(online, ProcessAffinity(online));
            if (cpus.Count == 0) return $"RPS on {device} off (one CPU)";
            mask = Mask(cpus);
            net.WriteSysctl(path, mask);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or HostNetworkException)
        {
            // sysfs files are root's: CAP_NET_ADMIN alone (the shipped unit's User=tunlb) cannot write them.
            return $"RPS on {device} off (cannot set {path}: {e.Message})";
        }
        return $"RPS on {device}: rps_cpus={mask} (CPUs {string.Join(",", cpus)})";
    }

    private static IReadOnlyList<int> OnlineCpus()
    {
        try { return ParseCpuList(File.ReadAllText("/sys/devices/system/cpu/online")); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return Enumerable.Range(0, Environment.ProcessorCount).ToList();
        }
    }

    // sched_getaffinity through the runtime. It reports the first 64 CPUs only: a process allowed all of those counts as
    // allowed the rest too.
    private static HashSet<int> ProcessAffinity(IReadOnlyList<int> online)
    {
        long bits = (long)Process.GetCurrentProcess().ProcessorAffinity;
        return online.Where(c => c < 64 ? (bits & (1L << c)) != 0 : bits == -1L).ToHashSet();
    }
}
