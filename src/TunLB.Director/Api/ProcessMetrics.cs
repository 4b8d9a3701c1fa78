namespace TunLB.Director.Api;

/// <summary>
/// The process's own families in /metrics: managed heap, collections, threads and open descriptors. They show whether
/// memory, threads or sockets leak across reloads (docs/robustness.md, "Reload storm").
/// </summary>
internal static class ProcessMetrics
{
    public static void Render(Metrics.Writer w)
    {
        var gc = GC.GetGCMemoryInfo();
        w.Gauge("tunlb_gc_heap_bytes", "Managed heap in use: live objects plus garbage the GC has not collected yet.", GC.GetTotalMemory(false));
        w.Gauge("tunlb_gc_heap_after_last_gc_bytes", "Managed heap after the last collection, less its fragmentation (about the live objects then).", gc.HeapSizeBytes - gc.FragmentedBytes);
        w.Gauge("tunlb_gc_committed_bytes", "Memory the GC has committed from the OS.", gc.TotalCommittedBytes);
        w.Family("tunlb_gc_collections_total", "counter", "Garbage collections, by generation.");
        for (int g = 0; g <= GC.MaxGeneration; g++) w.Sample("{generation=\"" + g + "\"}", GC.CollectionCount(g));
        w.Gauge("tunlb_process_threads", "Threads of the process.", Count("/proc/self/task"));
        w.Gauge("tunlb_process_open_fds", "Open file descriptors of the process (sockets, devices, files).", Count("/proc/self/fd"));
    }

    private static long Count(string dir)
    {
        try { return Directory.EnumerateFileSystemEntries(dir).LongCount(); }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }
}
