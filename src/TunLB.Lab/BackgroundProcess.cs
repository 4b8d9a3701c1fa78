using System.Diagnostics;
using System.Text;

namespace TunLB.Lab;

/// <summary>A long-running process started for the lab (director, agent, HTTP server, tcpdump). Output is kept.</summary>
/// <remarks>
/// The output is read by asynchronous readers that deliver a process's last lines after <c>HasExited</c> turns true.
/// Everything here that answers about a process that has exited (its output, whether a line came) first waits for both
/// pipes to reach end of file, bounded by <see cref="DrainMs"/>: a child that inherited the pipes could hold them open.
/// </remarks>
public sealed class BackgroundProcess : IDisposable
{
    /// <summary>How long to wait, after the exit, for the pipes' last lines (a loaded 2-core machine can take seconds).</summary>
    public const int DrainMs = 10_000;

    /// <summary>Default grace between SIGTERM/SIGINT and SIGKILL in <see cref="Stop"/>: a daemon removing its host setup
    /// (links, routes, sysctls, Kestrel) on a loaded 2-core machine has been seen to need more than 5 s.</summary>
    public const int DefaultGraceMs = 30_000;

    private readonly Process _p;
    private readonly StringBuilder _out = new();
    private bool _drained;
    public string Label { get; }

    private BackgroundProcess(string label, Process p) { Label = label; _p = p; }

    public static BackgroundProcess Start(string label, string file, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env != null) foreach (var kv in env) psi.Environment[kv.Key] = kv.Value;
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var bp = new BackgroundProcess(label, p);
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (bp._out) bp._out.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (bp._out) bp._out.AppendLine(e.Data); };
        p.BeginOutputReadLine(); p.BeginErrorReadLine();
        return bp;
    }

    public int Pid => _p.Id;
    public bool HasExited => _p.HasExited;

    /// <summary>The exit code; once the process has exited, also waits for its last output lines.</summary>
    public int ExitCode { get { if (_p.HasExited) Drain(); return _p.ExitCode; } }

    /// <summary>Everything printed so far; complete once the process has exited (then waits for the pipes to drain).</summary>
    public string Output
    {
        get
        {
            if (_p.HasExited) Drain();
            lock (_out) return _out.ToString();
        }
    }

    private string Snapshot() { lock (_out) return _out.ToString(); }

    /// <summary>After the exit: waits (bounded) until both pipes reached end of file, so the output is complete.</summary>
    private void Drain()
    {
        if (_drained) return;
        _drained = true; // one bounded wait: a descendant holding a pipe open must not cost every later look at Output
        using var cts = new CancellationTokenSource(DrainMs);
        // Unlike WaitForExit(int), the asynchronous wait also waits for the redirected streams' end of file.
        try { _p.WaitForExitAsync(cts.Token).GetAwaiter().GetResult(); }
        catch (OperationCanceledException) { /* answer with what came */ }
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; false on timeout or when the process exited without printing it.</summary>
    public bool WaitForOutput(string text, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (Snapshot().Contains(text, StringComparison.Ordinal)) return true;
            if (_p.HasExited) return Output.Contains(text, StringComparison.Ordinal);
            Thread.Sleep(50);
        }
        return Snapshot().Contains(text, StringComparison.Ordinal);
    }

    /// <summary>Waits for the process to exit and its output to drain; false on timeout.</summary>
    public bool WaitForExit(int timeoutMs)
    {
        if (!_p.WaitForExit(timeoutMs)) return false;
        Drain();
        return true;
    }

    /// <summary>Sends a signal (SIGTERM by default) and waits; kills after the grace period. Returns the exit code
    /// (137 when it had to be killed).</summary>
    public int Stop(int signal = 15, int graceMs = DefaultGraceMs)
    {
        if (!_p.HasExited)
        {
            Sh.Run("kill", [$"-{signal}", _p.Id.ToString()]);
            if (!_p.WaitForExit(graceMs)) { try { _p.Kill(true); } catch { } _p.WaitForExit(5000); }
        }
        Drain();
        return _p.ExitCode;
    }

    /// <summary>SIGKILL now, sent from this process (no `kill` process start to wait for); does not wait for the exit.</summary>
    public void Kill()
    {
        try { _p.Kill(); } catch (InvalidOperationException) { /* already gone */ }
    }

    public void Dispose()
    {
        try { if (!_p.HasExited) Stop(); } catch { }
        _p.Dispose();
    }
}
