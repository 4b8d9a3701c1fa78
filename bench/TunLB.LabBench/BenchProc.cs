using System.Text.Json;
using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>Readings from /proc and `ip -s -j link` for the benchmarks.</summary>
public static class BenchProc
{
    private static readonly Lazy<int> s_clockTicks = new(() =>
        int.TryParse(Sh.Run("getconf", ["CLK_TCK"]).Stdout.Trim(), out int hz) && hz > 0 ? hz : 100);

    /// <summary>user + system CPU seconds of a process and all its live descendants (threads included).</summary>
    public static double CpuSeconds(int pid)
    {
        long ticks = 0;
        var seen = new HashSet<int>();
        var stack = new Stack<int>();
        stack.Push(pid);
        while (stack.Count > 0)
        {
            int p = stack.Pop();
            if (!seen.Add(p)) continue;
            try
            {
                string stat = File.ReadAllText($"/proc/{p}/stat");
                var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                // Fields after the command: state(3) ... utime(14) stime(15) -> indexes 11, 12 here.
                ticks += long.Parse(f[11]) + long.Parse(f[12]);
                foreach (var task in Directory.EnumerateDirectories($"/proc/{p}/task"))
                {
                    var children = Path.Combine(task, "children");
                    if (!File.Exists(children)) continue;
                    foreach (var c in File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                        stack.Push(int.Parse(c));
                }
            }
            catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
        return (double)ticks / s_clockTicks.Value;
    }

    /// <summary>Resident set size in bytes (VmRSS), 0 when the process is gone.</summary>
    public static long RssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0]) * 1024;
        }
        catch (IOException) { }
        return 0;
    }

    public readonly record struct LinkCounters(long RxPackets, long TxPackets, long RxDropped, long TxDropped);

    /// <summary>Interface counters inside a namespace (ip -s -j link).</summary>
    public static LinkCounters Link(Topology t, string role, string dev)
    {
        var json = t.Exec(role, "ip", "-s", "-j", "link", "show", "dev", dev);
        using var doc = JsonDocument.Parse(json);
        var s = doc.RootElement[0].GetProperty("stats64");
        var rx = s.GetProperty("rx"); var tx = s.GetProperty("tx");
        return new(rx.GetProperty("packets").GetInt64(), tx.GetProperty("packets").GetInt64(),
            rx.GetProperty("dropped").GetInt64(), tx.GetProperty("dropped").GetInt64());
    }

    public static string Mac(Topology t, string role, string dev)
    {
        using var doc = JsonDocument.Parse(t.Exec(role, "ip", "-j", "link", "show", "dev", dev));
        return doc.RootElement[0].GetProperty("address").GetString()!;
    }
}
