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
        w.Family("tunlb_gc_heap_bytes", "gauge", "Managed heap in use: live objects plus garbage the GC has not collected yet.");
        w.Sample("", GC.GetTotalMemory(false));
        w.Family("tunlb_gc_heap_after_last_gc_bytes", "gauge", "Managed heap after the last collection, less its fragmentation (about the live objects then).");
        w.Sample("", gc.HeapSizeBytes - gc.FragmentedBytes);
        w.Family("tunlb_gc_committed_bytes", "gauge", "Memory the GC has committed from the OS.");
        w.Sample("", gc.TotalCommittedBytes);
        w.Family("tunlb_gc_collections_total", "counter", "Garbage collections, by generation.");
        for (int g = 0; g <= GC.MaxGeneration; g++) w.Sample("{generation=\"" + g + "\"}", GC.CollectionCount(g));
        w.Family("tunlb_process_threads", "gauge", "Threads of the process.");
        w.Sample("", Count("/proc/self/task"));
        w.Family("tunlb_process_open_fds", "gauge", "Open file descriptors of the process (sockets, devices, files).");
        w.Sample("", Count("/proc/self/fd"));
    }

    private static long Count(string dir)
    {
        try { return Directory.EnumerateFileSystemEntries(dir).LongCount(); }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }
}
