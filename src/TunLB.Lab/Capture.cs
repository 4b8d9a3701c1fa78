namespace TunLB.Lab;

/// <summary>A tcpdump capture running in one namespace, read back with tcpdump filters afterwards.</summary>
public sealed class Capture : IDisposable
{
    private readonly BackgroundProcess _p;
    public string File { get; }

    private Capture(BackgroundProcess p, string file) { _p = p; File = file; }

    public static Capture Start(Topology t, string role, string ifName, string file, string filter = "")
    {
        var args = new List<string> { "-i", ifName, "-n", "-U", "--immediate-mode", "-s", "256", "-w", file };
        if (filter.Length > 0) args.AddRange(filter.Split(' '));
        var p = t.Start(role, $"tcpdump-{role}-{ifName}", "tcpdump", [.. args]);
        if (!p.WaitForOutput("listening on", 10_000))
            throw new InvalidOperationException($"tcpdump on {role}/{ifName} did not start:\n{p.Output}");
        return new Capture(p, file);
    }

    public void Stop()
    {
        Thread.Sleep(300); // let the last packets be written
        _p.Stop(2);
    }

    /// <summary>Counts packets in the capture matching a tcpdump filter expression.</summary>
    public int Count(string filter)
    {
        var r = Sh.Run("tcpdump", ["-r", File, "-n", .. filter.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"tcpdump -r {File} {filter}: {r.Stderr}");
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
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

    public void Dispose() => _p.Dispose();
}
