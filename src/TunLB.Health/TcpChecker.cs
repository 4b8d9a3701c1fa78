using System.Diagnostics;

namespace TunLB.Health;

/// <summary>tcp: the check passes when a TCP connection is established (keepalived TCP_CHECK).</summary>
public sealed class TcpChecker : IHealthChecker
{
    public async Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        using var deadline = Checkers.Deadline(ctx, ct);
        try
        {
            var (s, lease) = await Checkers.ConnectTcpAsync(ctx, deadline.Token).ConfigureAwait(false);
            using (lease) using (s) { }
            return CheckResult.Pass($"connected to {ctx.Target} in {sw.Elapsed.TotalMilliseconds:0.#} ms", sw.Elapsed);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e) { return CheckResult.Fail(Checkers.Describe(e, ctx, "connect"), sw.Elapsed); }
    }
}
