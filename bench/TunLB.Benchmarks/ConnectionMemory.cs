using System.Diagnostics;
using System.Text.Json;
using TunLB.Core.Connections;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Benchmarks;

/// <summary>
/// Bytes per tracked connection at 1,000,000 entries, measured rather than computed: managed heap
/// (GC.GetTotalMemory after a full collection, and GC.GetGCMemoryInfo().HeapSizeBytes) and resident set
/// (/proc/self/status VmRSS) before and after constructing a ConnectionTable, and after filling it.
/// Run with `TunLB.Benchmarks memory [entries] [--json file]`.
/// </summary>
public static class ConnectionMemory
{
    public sealed record Result(int Entries, int EntrySize, double ComputedBytesPerEntry,
        long HeapPreallocated, long HeapFilled, long GcInfoPreallocated, long GcInfoFilled,
        long RssPreallocated, long RssFilled, long AllocatedDuringFill, double FillSeconds)
    {
        public double HeapBytesPerEntryPreallocated => (double)HeapPreallocated / Entries;
        public double HeapBytesPerEntryFilled => (double)HeapFilled / Entries;
        public double RssBytesPerEntryPreallocated => (double)RssPreallocated / Entries;
        public double RssBytesPerEntryFilled => (double)RssFilled / Entries;
    }

    public static int Run(string[] args)
    {
        int entries = args.Length > 1 && int.TryParse(args[1], out int n) ? n : ConnectionTable.DefaultCapacity;
        string? json = null;
        for (int i = 0; i < args.Length - 1; i++) if (args[i] == "--json") json = args[i + 1];
        var r = Measure(entries);
        Console.WriteLine($"ConnectionTable with {r.Entries:N0} entries (ConnEntry = {r.EntrySize} B, computed {r.ComputedBytesPerEntry:F1} B/entry)");
        Console.WriteLine($"  managed heap (GC.GetTotalMemory): preallocated {r.HeapPreallocated:N0} B = {r.HeapBytesPerEntryPreallocated:F1} B/entry; filled {r.HeapFilled:N0} B = {r.HeapBytesPerEntryFilled:F1} B/entry");
        Console.WriteLine($"  heap size (GC.GetGCMemoryInfo):    preallocated {r.GcInfoPreallocated:N0} B; filled {r.GcInfoFilled:N0} B");
        Console.WriteLine($"  resident set (VmRSS):              preallocated {r.RssPreallocated:N0} B = {r.RssBytesPerEntryPreallocated:F1} B/entry; filled {r.RssFilled:N0} B = {r.RssBytesPerEntryFilled:F1} B/entry");
        Console.WriteLine($"  allocated while filling: {r.AllocatedDuringFill} B; fill took {r.FillSeconds:F2} s");
        if (json != null) File.WriteAllText(json, JsonSerializer.Serialize(r));
        return 0;
    }

    public static Result Measure(int entries)
    {
        // Warm up the code paths (JIT, statics) on a small table so they do not count.
        {
            var warm = new ConnectionTable(1024, FullTablePolicy.Refuse, 1);
            Fill(warm, 1024);
        }
        long heap0 = Heap(), info0 = GcInfo(), rss0 = Rss();
        var table = new ConnectionTable(entries, FullTablePolicy.Refuse, 0x5eed);
        long heap1 = Heap(), info1 = GcInfo(), rss1 = Rss();
        var sw = new Stopwatch();
        long alloc0 = GC.GetAllocatedBytesForCurrentThread();
        sw.Start();
        Fill(table, entries);
        sw.Stop();
        long alloc1 = GC.GetAllocatedBytesForCurrentThread();
        if (table.Count != entries) throw new InvalidOperationException($"filled {table.Count} of {entries}");
        long heap2 = Heap(), info2 = GcInfo(), rss2 = Rss();
        GC.KeepAlive(table);
        return new Result(entries, System.Runtime.CompilerServices.Unsafe.SizeOf<ConnEntry>(), table.BytesPerEntry,
            heap1 - heap0, heap2 - heap0, info1 - info0, info2 - info0, rss1 - rss0, rss2 - rss0, alloc1 - alloc0, sw.Elapsed.TotalSeconds);
    }

    private static void Fill(ConnectionTable t, int count)
    {
        var obs = new NullConnectionObserver();
        var vip = Vip;
        for (int i = 0; i < count; i++)
        {
            var (s, port) = BenchPackets.Flow(i);
            var key = new FlowKey(IpAddress.FromV4(s), vip, port, 80, IpProtocol.Tcp);
            int idx = t.Add(key, 0, ref obs);
            if (idx < 0) throw new InvalidOperationException("table refused an entry");
            t[idx].State = ConnState.Established;
            t[idx].ExpiresAtMs = 900_000;
        }
    }

    private static readonly IpAddress Vip = IpAddress.Parse("203.0.113.10");

    private static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

    private static long GcInfo()
    {
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        return GC.GetGCMemoryInfo(GCKind.FullBlocking).HeapSizeBytes;
    }

    private static long Rss()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim()) * 1024;
        return 0;
    }
}
