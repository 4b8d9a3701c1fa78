using System.Diagnostics;
using System.Text;

namespace TunLB.Lab;

/// <summary>Runs host commands (ip, sysctl, tcpdump, curl) for the lab. Control-plane code: may allocate and throw.</summary>
public static class Sh
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>Runs a command to completion and returns its exit code and output.</summary>
    public static Result Run(string file, IEnumerable<string> args, int timeoutMs = 60_000, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin != null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var so = new StringBuilder(); var se = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (so) so.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (se) se.AppendLine(e.Data); };
        p.BeginOutputReadLine(); p.BeginErrorReadLine();
        if (stdin != null) { p.StandardInput.Write(stdin); p.StandardInput.Close(); }
        if (!p.WaitForExit(timeoutMs))
        {
            try { p.Kill(true); } catch { }
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        // The output's last lines arrive after the exit: wait for both pipes' end of file, bounded (a command that left a
        // background child holding them, like `ip netns exec ns sh -c "x &"`, would otherwise hang the caller forever).
        using (var drain = new CancellationTokenSource(BackgroundProcess.DrainMs))
            try { p.WaitForExitAsync(drain.Token).GetAwaiter().GetResult(); }
            catch (OperationCanceledException) { }
        lock (so) lock (se) return new Result(p.ExitCode, so.ToString(), se.ToString());
    }

    /// <summary>Runs a command and throws with its stderr when it fails.</summary>
    public static string Ok(string file, params string[] args)
    {
        var r = Run(file, args);
        if (r.ExitCode != 0)
            throw new InvalidOperationException($"`{file} {string.Join(' ', args)}` failed ({r.ExitCode}): {r.Stderr.Trim()}{r.Stdout.Trim()}");
        return r.Stdout;
    }

    public static bool Exists(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").Split(':'))
            if (File.Exists(Path.Combine(dir, tool))) return true;
        return File.Exists("/usr/sbin/" + tool) || File.Exists("/sbin/" + tool);
    }
}
