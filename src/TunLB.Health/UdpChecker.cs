using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TunLB.Health;

/// <summary>
/// udp: send the payload, expect a reply (containing <see cref="CheckSpec.Expect"/> when set) from the target
/// within the timeout (keepalived UDP_CHECK with require_reply). An ICMP port unreachable fails at once. With
/// <see cref="CheckSpec.RequireReply"/> false, silence until the timeout passes (keepalived UDP_CHECK without require_reply).
/// </summary>
public sealed class UdpChecker : IHealthChecker
{
    private const string NoReply = "no reply within";

    public async Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var payload = Encoding.Latin1.GetBytes(ctx.Spec.Payload.Length > 0 ? ctx.Spec.Payload : "tunlb-health\n");
        var (ok, reply, detail) = await ExchangeAsync(ctx, payload, ct).ConfigureAwait(false);
        if (!ok && reply is null && !ctx.Spec.RequireReply && detail.StartsWith(NoReply, StringComparison.Ordinal))
            return CheckResult.Pass($"no reply and no ICMP error within {ctx.Spec.TimeoutSeconds:0.0##} s (reply not required)", sw.Elapsed);
        if (!ok) return CheckResult.Fail(detail, sw.Elapsed);
        var expect = ctx.Spec.Expect;
        if (expect.Length > 0 && !Encoding.Latin1.GetString(reply!).Contains(expect, StringComparison.Ordinal))
            return CheckResult.Fail($"reply of {reply!.Length} bytes lacks \"{expect}\"", sw.Elapsed);
        return CheckResult.Pass($"reply of {reply!.Length} bytes in {sw.Elapsed.TotalMilliseconds:0.#} ms", sw.Elapsed);
    }

    /// <summary>Sends one datagram and waits for one reply from the target. Shared with the DNS checker.</summary>
    internal static async Task<(bool Ok, byte[]? Reply, string Detail)> ExchangeAsync(CheckContext ctx, byte[] payload, CancellationToken ct)
    {
        using var deadline = Checkers.Deadline(ctx, ct);
        using var s = new Socket(ctx.Target.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        IDisposable? lease = null;
        try
        {
            lease = ctx.Binder?.Invoke(s, ProtocolType.Udp);
            // connect() so the kernel reports ICMP errors (port unreachable) on this socket and filters other sources.
            await s.ConnectAsync(ctx.Target, deadline.Token).ConfigureAwait(false);
            await s.SendAsync(payload, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            var buf = new byte[65535];
            int n = await s.ReceiveAsync(buf, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            return (true, buf[..n], "");
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (OperationCanceledException) { return (false, null, $"{NoReply} {ctx.Spec.TimeoutSeconds:0.0##} s"); }
        catch (Exception e) { return (false, null, Checkers.Describe(e, ctx, "udp")); }
        finally { lease?.Dispose(); }
    }
}
