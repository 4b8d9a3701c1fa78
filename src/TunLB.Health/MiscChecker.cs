using System.Diagnostics;

namespace TunLB.Health;

/// <summary>
/// misc: run <see cref="CheckSpec.Command"/> with /bin/sh -c; exit 0 = up (keepalived MISC_CHECK). With
/// <see cref="CheckSpec.Dynamic"/> (misc_dynamic): 0 = up with the configured weight, 1 = down, 2..255 = up
/// with weight exit-2. A command still running at the timeout is killed (with its children) and fails.
/// Environment: TUNLB_REAL, TUNLB_REAL_PORT, TUNLB_VIP, TUNLB_PORT.
/// </summary>
public sealed class MiscChecker : IHealthChecker
{
    public async Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(ctx.Spec.Command);
        psi.Environment["TUNLB_REAL"] = ctx.RealAddress.ToString();
        psi.Environment["TUNLB_REAL_PORT"] = ctx.RealPort.ToString();
        psi.Environment["TUNLB_VIP"] = ctx.Vip?.ToString() ?? "";
        psi.Environment["TUNLB_PORT"] = ctx.ServicePort.ToString();
        using var deadline = Checkers.Deadline(ctx, ct);
        Process p;
        try { p = Process.Start(psi)!; }
        catch (Exception e) { return CheckResult.Fail($"cannot run /bin/sh: {e.Message}", sw.Elapsed); }
        using (p)
        {
            var output = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var errors = p.StandardError.ReadToEndAsync(CancellationToken.None);
            try { await p.WaitForExitAsync(deadline.Token).ConfigureAwait(false); }
            catch (OperationCanceledException)
            {
                try { p.Kill(entireProcessTree: true); } catch { }
                if (ct.IsCancellationRequested) throw;
                return CheckResult.Fail($"command timeout after {ctx.Spec.TimeoutSeconds:0.0##} s (killed)", sw.Elapsed);
            }
            string text = FirstLine(await output.ConfigureAwait(false)) is { Length: > 0 } o ? o : FirstLine(await errors.ConfigureAwait(false));
            return Evaluate(p.ExitCode, ctx.Spec.Dynamic, text, sw.Elapsed);
        }
    }

    /// <summary>Exit code to result (exposed for tests).</summary>
    public static CheckResult Evaluate(int exit, bool dynamic, string output, TimeSpan duration)
    {
        string tail = output.Length > 0 ? $": {output}" : "";
        if (exit == 0) return CheckResult.Pass($"exit 0{tail}", duration);
        if (dynamic && exit >= 2 && exit <= 255)
            return CheckResult.Pass($"exit {exit}: weight {exit - 2}{tail}", duration) with { Weight = exit - 2 };
        return CheckResult.Fail($"exit {exit}{tail}", duration);
    }

    private static string FirstLine(string s)
    {
        var line = s.Split('\n', 2)[0].Trim();
        return line.Length > 120 ? line[..120] + "…" : line;
    }
}
