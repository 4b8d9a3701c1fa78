using System.Diagnostics;
using TunLB.Core.Egress;
using TunLB.Core.Flows;

namespace TunLB.Linux.Egress;

/// <summary>What to probe: one target, a bounded number of probes, at a bounded rate.</summary>
public sealed record EgressProbePlan(
    IpAddress Vip, IpAddress ControlSource, IpAddress Target, EgressSessionId Session,
    int MaxHops, int ProbesPerHop, double RatePerSecond, TimeSpan Timeout)
{
    /// <summary>Hard limits, whatever the command line says: 64 hops × 3 probes × 2 series, at most 100 probes/s.</summary>
    public const int MaxHopsLimit = EgressProbe.MaxTtl;
    public const int MaxProbesPerHopLimit = EgressProbe.MaxProbesPerHop;
    public const double MaxRate = 100;

    public void Validate()
    {
        if (Vip.IsV4 != Target.IsV4 || ControlSource.IsV4 != Target.IsV4)
            throw new ArgumentException("the VIP, the target and the real server's own address must be of one family (IPv4 or IPv6)");
        if (MaxHops < 1 || MaxHops > MaxHopsLimit) throw new ArgumentException($"max hops must be 1..{MaxHopsLimit}");
        if (ProbesPerHop < 1 || ProbesPerHop > MaxProbesPerHopLimit) throw new ArgumentException($"probes per hop must be 1..{MaxProbesPerHopLimit}");
        if (!(RatePerSecond > 0) || RatePerSecond > MaxRate) throw new ArgumentException($"rate must be above 0 and at most {MaxRate}/s");
        if (Timeout <= TimeSpan.Zero || Timeout > TimeSpan.FromSeconds(60)) throw new ArgumentException("timeout must be 1..60 s");
        if (Vip == Target || ControlSource == Target) throw new ArgumentException("the target must be a remote address");
    }
}

/// <summary>What a run produced: every answer to both series, and how many probes were sent.</summary>
public sealed record EgressProbeOutcome(IReadOnlyList<EgressAnswer> VipAnswers, IReadOnlyList<EgressAnswer> ControlAnswers, int ProbesSent, int HopsProbed, string? ListenerError);

/// <summary>
/// Sends the two probe series of an egress check from a real server and collects the answers: the control series'
/// ICMP answers come back to this host (raw ICMP socket); the VIP series' answers arrive at the director and are
/// fetched through <c>fetchVipAnswers</c> (the listener's HTTP API). Probes go out hop by hop, VIP and control
/// interleaved, so router ICMP rate limits hit both series alike; probing stops after the hop where the target answered
/// the control series.
/// </summary>
public static class EgressProber
{
    public static EgressProbeOutcome Run(EgressProbePlan plan, Func<IReadOnlyList<EgressAnswer>> fetchVipAnswers, Action<string>? log = null)
    {
        plan.Validate();
        IpAddress vip = plan.Vip, ctl = plan.ControlSource, target = plan.Target;
        bool v6 = !target.IsV4;
        var control = new List<EgressAnswer>();
        using var sender = v6 ? null : RawIpSocket.OpenSender();
        using var sender6 = v6 ? RawIp6Socket.OpenSender() : null;
        using var icmp = v6 ? null : RawIpSocket.OpenReceiver(Interop.IPPROTO_ICMP);
        using var icmp6 = v6 ? RawIp6Socket.OpenReceiver(Interop.IPPROTO_ICMPV6) : null;
        var clock = Stopwatch.StartNew();
        var receiver = new Thread(() =>
        {
            var buf = new byte[65536];
            while (true)
            {
                EgressAnswer a = default;
                bool ok;
                if (v6)
                {
                    // A raw ICMPv6 socket hands over the message without the IPv6 header, checksum already verified
                    // by the kernel; it was delivered here, so its destination is taken to be our own address.
                    int m = icmp6!.ReceiveFrom(buf, 200, out var from);
                    if (m < 0) return;
                    if (m == 0) continue;
                    ok = IcmpErrorV6.TryParseMessage(buf.AsSpan(0, m), from, ctl, 0, out var e6)
                        && EgressAnswer.TryMatch(buf.AsSpan(0, m), e6, clock.ElapsedMilliseconds, out a);
                }
                else
                {
                    int n = icmp!.Receive(buf, 200);
                    if (n < 0) return;
                    if (n == 0) continue;
                    ok = EgressAnswer.TryParse(buf.AsSpan(0, n), clock.ElapsedMilliseconds, out a);
                }
                if (ok && a.ProbeSource == ctl && a.Target == target && a.BelongsTo(plan.Session))
                    lock (control) control.Add(a);
            }
        }) { IsBackground = true, Name = "egress icmp" };
        receiver.Start();

        var interval = TimeSpan.FromSeconds(1 / plan.RatePerSecond);
        var packet = new byte[EgressProbe.PacketLengthV6];
        int sent = 0, hops = 0;
        long nextSendTicks = 0;
        void Pace()
        {
            long wait = nextSendTicks - clock.Elapsed.Ticks;
            if (wait > 0) Thread.Sleep(TimeSpan.FromTicks(wait));
            nextSendTicks = Math.Max(nextSendTicks, clock.Elapsed.Ticks) + interval.Ticks;
        }
        for (int ttl = 1; ttl <= plan.MaxHops; ttl++)
        {
            lock (control)
                if (control.Exists(a => a.From == target && a.Ttl < ttl)) break;
            hops = ttl;
            for (int seq = 0; seq < plan.ProbesPerHop; seq++)
            {
                foreach (var (src, series) in new[] { (vip, EgressSeries.Vip), (ctl, EgressSeries.Control) })
                {
                    Pace();
                    int len = EgressProbe.Write(packet, src, target, plan.Session, ttl, seq, series);
                    bool okSend = v6 ? sender6!.Send(packet.AsSpan(0, len), target) : sender!.Send(packet.AsSpan(0, len), target);
                    if (!okSend)
                        log?.Invoke($"send ttl {ttl} seq {seq} from {EgressVerdict.Fmt(src)} failed: errno {(v6 ? sender6!.LastError : sender!.LastError)}");
                    else sent++;
                }
            }
        }
        log?.Invoke($"sent {sent} probes over {hops} hops; waiting up to {plan.Timeout.TotalSeconds:0.#} s for answers");

        // Collect: poll the listener until the timeout after the last probe (earlier once the target answered the VIP series).
        var deadline = clock.Elapsed + plan.Timeout;
        IReadOnlyList<EgressAnswer> vipAnswers = [];
        string? listenerError = null;
        while (true)
        {
            try
            {
                vipAnswers = fetchVipAnswers().Where(a => a.ProbeSource == vip && a.Target == target && a.BelongsTo(plan.Session)).ToList();
                listenerError = null;
            }
            catch (Exception e) { listenerError = e.Message; }
            if (vipAnswers.Any(a => a.From == target) || clock.Elapsed >= deadline) break;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(500, Math.Max(1, (deadline - clock.Elapsed).TotalMilliseconds))));
        }
        icmp?.Dispose();
        icmp6?.Dispose();
        receiver.Join();
        List<EgressAnswer> ctlCopy;
        lock (control) ctlCopy = [.. control];
        return new EgressProbeOutcome(vipAnswers, ctlCopy, sent, hops, listenerError);
    }
}
