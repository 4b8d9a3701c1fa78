using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Linux;

namespace TunLB.Director.Workers;

/// <summary>
/// Routers beyond the director's first hop report a smaller path MTU toward a real server with ICMP frag-needed (ICMPv6
/// Packet Too Big) about our tunnel packets. The kernel does not apply it to raw sends, so this thread lowers that real
/// server's MTU itself; the engine then sends clients frag-needed with the right size. A learned value expires after
/// pmtu_expires and the MTU it replaced comes back (<see cref="LearnedPathMtus"/>).
/// </summary>
public sealed class PathMtuLearner : IDisposable
{
    private readonly IPacketReceiver _icmp;
    private readonly bool _ipv6;
    private readonly Func<IReadOnlyList<VirtualService>> _services;
    private readonly int _expiresSeconds;
    private readonly Action<string> _log;
    private readonly Func<long> _clock;
    private Thread? _thread;
    private volatile bool _stop;

    /// <param name="icmp">Receives ICMP (or ICMPv6) packets; owned: disposed with this learner.</param>
    /// <param name="services">The current services, whose destinations' MTUs are changed.</param>
    public PathMtuLearner(IPacketReceiver icmp, bool ipv6, Func<IReadOnlyList<VirtualService>> services, int expiresSeconds,
                          Action<string> log, Func<long>? clock = null)
    {
        _icmp = icmp; _ipv6 = ipv6; _services = services; _expiresSeconds = expiresSeconds; _log = log;
        _clock = clock ?? (() => Environment.TickCount64);
    }

    /// <summary>Runs <see cref="Run"/> on a background thread.</summary>
    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = _ipv6 ? "tunlb-pmtu6" : "tunlb-pmtu" };
        _thread.Start();
    }

    /// <summary>Reads ICMP until the receiver closes or <see cref="Dispose"/>.</summary>
    public void Run()
    {
        var buf = new byte[2048];
        var learned = new LearnedPathMtus(_expiresSeconds * 1000L);
        long lastExpire = _clock();
        while (!_stop)
        {
            int n = _icmp.Receive(buf, 200);
            if (n < 0) break;
            long now = _clock();
            if (now - lastExpire >= 1000)
            {
                lastExpire = now;
                learned.Expire(now, (d, mtu, back) =>
                    _log($"tunlb director: path MTU {mtu} toward {d.Address} expired after {_expiresSeconds} s; back to {(back == 0 ? "unknown" : back)}"));
            }
            if (n == 0) continue;
            IpAddress src, rs; int mtu;
            bool ok = _ipv6
                ? TunnelPmtu.TryParsePacketTooBig(buf.AsSpan(0, n), out src, out rs, out mtu)
                : TunnelPmtu.TryParseFragNeeded(buf.AsSpan(0, n), out src, out rs, out mtu);
            if (!ok) continue;
            foreach (var svc in _services())
                foreach (var d in svc.Destinations)
                    // Believe only messages about packets we sent: the quoted source is our address toward that server.
                    if (d.Address == rs && d.OuterSource == src && learned.Learn(d, mtu, now) is int old)
                        _log($"tunlb director: path MTU toward {rs} is {mtu} (was {(old == 0 ? "unknown" : old)}), learned from ICMP{(_ipv6 ? "v6 Packet Too Big" : " frag-needed")}");
        }
    }

    /// <summary>Stops the thread: closes the receiver (a blocked Receive returns -1) and waits up to a second.</summary>
    public void Dispose()
    {
        _stop = true;
        _icmp.Dispose();
        _thread?.Join(1000);
    }
}
