using System.Text.RegularExpressions;

namespace TunLB.Lab;

/// <summary>A tcpdump capture running in one namespace, read back with tcpdump filters afterwards.</summary>
public sealed partial class Capture : IDisposable
{
    private readonly BackgroundProcess _p;
    public string File { get; }

    private Capture(BackgroundProcess p, string file) { _p = p; File = file; }

    /// <param name="snaplen">Bytes kept per packet: 256 is enough for headers; use more to decode whole packets.</param>
    public static Capture Start(Topology t, string role, string ifName, string file, string filter = "", int snaplen = 256)
    {
        var args = new List<string> { "-i", ifName, "-n", "-U", "--immediate-mode", "-s", snaplen.ToString(System.Globalization.CultureInfo.InvariantCulture), "-w", file };
        if (filter.Length > 0) args.AddRange(filter.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var p = t.Start(role, $"tcpdump-{role}-{ifName}", "tcpdump", [.. args]);
        if (!p.WaitForOutput("listening on", LabServices.StartTimeoutMs))
            throw new InvalidOperationException($"tcpdump on {role}/{ifName} did not start:\n{p.Output}");
        return new Capture(p, file);
    }

    public void Stop()
    {
        Thread.Sleep(300); // packets still on their way through the lab's links and daemons
        WaitCaughtUp(10_000);
        _p.Stop(2);
    }

    /// <summary>
    /// Waits until tcpdump has written every packet the kernel queued for it: on SIGINT it stops reading at once, so
    /// packets still in its socket (tcpdump not scheduled for a while on a loaded machine) would be lost. SIGUSR1 makes
    /// it print its counters without stopping; it has caught up when captured + dropped reaches received by filter, or,
    /// when part of the filter runs in tcpdump itself (libpcap applies <c>inbound</c> / <c>outbound</c> after the
    /// kernel, so "received" also counts packets it then discards), when two reports 100 ms apart are the same.
    /// </summary>
    private void WaitCaughtUp(int timeoutMs)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string? previous = null;
        while (sw.ElapsedMilliseconds < timeoutMs && !_p.HasExited)
        {
            int before = Counters().Count;
            Sh.Run("kill", ["-USR1", _p.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            while (Counters().Count == before && sw.ElapsedMilliseconds < timeoutMs && !_p.HasExited) Thread.Sleep(20);
            var all = Counters();
            if (all.Count == before) return;
            var last = all[^1];
            long captured = long.Parse(last.Groups[1].Value), received = long.Parse(last.Groups[2].Value), dropped = long.Parse(last.Groups[3].Value);
            if (captured + dropped >= received || last.Value == previous) return;
            previous = last.Value;
            Thread.Sleep(100);
        }
    }

    private MatchCollection Counters() => CountersLine().Matches(_p.Output);

    [GeneratedRegex(@"(\d+) packets? captured, (\d+) packets? received by filter, (\d+) packets? dropped by kernel")]
    private static partial Regex CountersLine();

    /// <summary>Counts packets in the capture matching a tcpdump filter expression.</summary>
    public int Count(string filter = "")
    {
        var r = Sh.Run("tcpdump", ["-r", File, "-n", .. filter.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"tcpdump -r {File} {filter}: {r.Stderr}");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    /// <summary>Packets written so far that match the filter, while the capture runs (0 while its last packet is half written).</summary>
    public int CountSoFar(string filter = "")
    {
        try { return Count(filter); }
        catch (InvalidOperationException) { return 0; }
    }

    /// <summary>Waits until the running capture holds at least <paramref name="n"/> packets matching the filter; false on timeout.</summary>
    public bool WaitForCount(string filter, int n, int timeoutMs)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (CountSoFar(filter) < n)
        {
            if (sw.ElapsedMilliseconds > timeoutMs) return false;
            Thread.Sleep(200);
        }
        return true;
    }

    /// <summary>Sums the IP total length of packets matching a tshark display filter (counts GRO super-packets right).</summary>
    public long IpBytes(string displayFilter)
    {
        var r = Sh.Run("tshark", ["-r", File, "-n", "-Y", displayFilter, "-T", "fields", "-e", "ip.len"]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"tshark -r {File} -Y {displayFilter}: {r.Stderr}");
        long sum = 0;
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            sum += long.Parse(line.Split(',')[0]);
        return sum;
    }

    /// <summary>tshark fields (one array per packet, "|"-separated fields, values of repeated layers comma-separated),
    /// with IP, UDP, TCP and ICMP checksum verification on.</summary>
    public List<string[]> Fields(string displayFilter, params string[] fields)
    {
        var args = new List<string> { "-r", File, "-n", "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
            "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|" };
        if (displayFilter.Length > 0) { args.Add("-Y"); args.Add(displayFilter); }
        foreach (var f in fields) { args.Add("-e"); args.Add(f); }
        var r = Sh.Run("tshark", args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"tshark -r {File} -Y {displayFilter}: {r.Stderr}");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('|')).ToList();
    }

    /// <summary>Packets matching the display filter <paramref name="scope"/> that tshark finds malformed or with a bad IP / UDP /
    /// TCP / ICMP / ICMPv6 checksum: "frame protocol addresses expert-messages" lines.</summary>
    /// <remarks>Scope it to packets a TunLB process built: packets that a namespace's own stack sent over a veth are captured
    /// before checksum offload fills their TCP / UDP checksums.</remarks>
    public List<string> Problems(string scope)
    {
        const string bad = "_ws.malformed || ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\" || " +
                           "tcp.checksum.status == \"Bad\" || icmp.checksum.status == \"Bad\" || icmpv6.checksum.status == \"Bad\" || " +
                           "_ws.expert.severity == \"error\"";
        return Fields($"({scope}) && ({bad})", "frame.number", "_ws.col.Protocol", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "_ws.expert.message")
            .Select(f => string.Join(' ', f)).ToList();
    }

    public void Dispose() => _p.Dispose();
}
