using System.Diagnostics;
using System.Text;

namespace TunLB.Lab;

/// <summary>A long-running process started for the lab (director, agent, HTTP server, tcpdump). Output is kept.</summary>
public sealed class BackgroundProcess : IDisposable
{
    private readonly Process _p;
    private readonly StringBuilder _out = new();
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
    public int ExitCode => _p.ExitCode;
    public string Output { get { lock (_out) return _out.ToString(); } }

    /// <summary>Waits until the output contains <paramref name="text"/>; false on timeout or exit.</summary>
    public bool WaitForOutput(string text, int timeoutMs)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (Output.Contains(text, StringComparison.Ordinal)) return true;
            if (_p.HasExited)
            {
                // The process has exited, but its last lines may still be in the pipe: the asynchronous readers deliver
                // them after HasExited turns true. Wait for both streams to reach end of file (bounded: a child that
                // inherited the pipe could hold it open).
                _p.WaitForExit(2000);
                var drain = Stopwatch.StartNew();
                while (drain.ElapsedMilliseconds < 1000 && !Output.Contains(text, StringComparison.Ordinal)) Thread.Sleep(20);
                return Output.Contains(text, StringComparison.Ordinal);
            }
            Thread.Sleep(50);
        }
        return false;
    }

    /// <summary>Waits for the process to exit; false on timeout.</summary>
    public bool WaitForExit(int timeoutMs) => _p.WaitForExit(timeoutMs);

    /// <summary>Sends a signal (SIGTERM by default) and waits; kills after the grace period.</summary>
    public int Stop(int signal = 15, int graceMs = 5000)
    {
        if (!_p.HasExited)
        {
            Sh.Run("kill", [$"-{signal}", _p.Id.ToString()]);
            if (!_p.WaitForExit(graceMs)) { try { _p.Kill(true); } catch { } _p.WaitForExit(2000); }
        }
        _p.WaitForExit();
        return _p.ExitCode;
    }

    public void Dispose()
    {
        try { if (!_p.HasExited) Stop(); } catch { }
        _p.Dispose();
    }
}
