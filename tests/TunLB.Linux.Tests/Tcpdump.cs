using System.Diagnostics;

namespace TunLB.Linux.Tests;

/// <summary>
/// tcpdump on one device of a test namespace, counting the packets it prints (one line each). Started and waited for
/// until it listens; killed on Dispose.
/// </summary>
internal sealed class Tcpdump : IDisposable
{
    private readonly Process _p;
    private int _lines;

    /// <summary>What tcpdump printed (for failure messages).</summary>
    public List<string> Lines { get; } = new();

    private Tcpdump(Process p) => _p = p;

    public static Tcpdump Start(string netns, string device, string filter)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", netns, "tcpdump", "-i", device, "-n", "-l", "-s", "128", "-B", "4096", "--immediate-mode", filter })
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        var d = new Tcpdump(p);
        var listening = new ManualResetEventSlim();
        p.ErrorDataReceived += (_, e) => { if (e.Data?.Contains("listening on") == true) listening.Set(); };
        p.OutputDataReceived += (_, e) =>
        {
            if (string.IsNullOrEmpty(e.Data)) return;
            Interlocked.Increment(ref d._lines);
            lock (d.Lines) d.Lines.Add(e.Data);
        };
        p.BeginErrorReadLine();
        p.BeginOutputReadLine();
        if (!listening.Wait(TimeSpan.FromSeconds(10)))
        {
            d.Dispose();
            throw new InvalidOperationException($"tcpdump on {device} in {netns} did not start");
        }
        return d;
    }

    /// <summary>Packets seen so far, waiting up to <paramref name="timeout"/> for at least <paramref name="expected"/>.</summary>
    public int Count(int expected, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (Volatile.Read(ref _lines) < expected && sw.Elapsed < timeout) Thread.Sleep(20);
        Thread.Sleep(100); // a few more would show that too many arrived
        return Volatile.Read(ref _lines);
    }

    public void Dispose()
    {
        try { if (!_p.HasExited) _p.Kill(); } catch (InvalidOperationException) { }
        _p.WaitForExit(5000);
        _p.Dispose();
    }
}
