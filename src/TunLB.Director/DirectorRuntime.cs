using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Packets;
using TunLB.Core.Scheduling;
using TunLB.Linux;

namespace TunLB.Director;

/// <summary>
/// The director process: captures VIP traffic through a TUN device (each VIP/32 routed into it), runs the
/// core engine on every packet, and sends the IPIP result through a raw socket. Everything it sets up on the
/// host is undone on Dispose.
/// </summary>
public sealed class DirectorRuntime : IDisposable
{
    // One packet buffer: TUN MTU is at most 65515, and the output adds one outer header.
    private const int BufferSize = 65536 + 64;
    // Connection expiry work per idle tick or per 1024 packets (slots examined).
    private const int ExpireBudget = 4096;

    private readonly DirectorConfig _cfg;
    private readonly TextWriter _log;
    private readonly HostNetwork _net = new();
    private TunDevice? _tun;
    private RawIpSocket? _tx;
    private Thread? _worker;
    private volatile bool _stop;
    private int _nextDestinationId = 1;

    public DirectorEngine Engine { get; }
    public IReadOnlyList<VirtualService> Services { get; private set; } = [];
    public long Forwarded;
    public long ForwardedBytes;

    public DirectorRuntime(DirectorConfig cfg, TextWriter log)
    {
        _cfg = cfg; _log = log;
        var d = cfg.Director;
        Engine = new DirectorEngine(new DirectorEngineOptions
        {
            ConnectionCapacity = d.ConnMax,
            FullTablePolicy = d.ConnFullPolicy == "refuse" ? FullTablePolicy.Refuse : FullTablePolicy.EvictOldest,
            Timeouts = ConnTimeouts.Default.WithIpvsadmSet(d.TimeoutTcp, d.TimeoutTcpFin, d.TimeoutUdp),
            OuterTtl = (byte)d.Ttl,
            InnerTtlIncrement = (byte)(d.RestoreInnerTtl ? 1 : 0),
            SloppyTcp = d.SloppyTcp,
            ExpireQuiescentTemplate = d.ExpireQuiescentTemplate,
            HashSeed = (ulong)Random.Shared.NextInt64(),
        });
    }

    /// <summary>Builds core services from config, resolving the director's source address toward each real server.</summary>
    public IReadOnlyList<VirtualService> BuildServices(DirectorConfig cfg)
    {
        var list = new List<VirtualService>();
        foreach (var s in cfg.Services)
        {
            var dests = new Destination[s.Reals.Count];
            for (int i = 0; i < dests.Length; i++)
            {
                var r = s.Reals[i];
                dests[i] = new Destination(_nextDestinationId++, r.Address, (ushort)r.Port, r.Weight)
                {
                    UpperThreshold = r.UpperThreshold,
                    LowerThreshold = r.LowerThreshold,
                    OuterSource = _net.SourceAddressToward(r.Address),
                };
            }
            var sched = SchedulerFactory.Create(s.Scheduler, new SchedulerOptions(s.MhTableSize, new HashSet<string>(s.SchedulerFlags)));
            list.Add(new VirtualService(new ServiceKey(s.Vip, (ushort)s.Port, s.Protocol), sched, dests)
            {
                PersistenceSeconds = s.PersistenceSeconds,
                PersistencePrefix = s.PersistencePrefix,
            });
        }
        return list;
    }

    public string Start()
    {
        try
        {
            var d = _cfg.Director;
            Services = BuildServices(_cfg);
            Engine.SetServices(Services);
            _tun = TunDevice.Open(d.TunName, out var dev);
            _net.SetLinkUp(dev, d.TunMtu);
            _net.WriteSysctl("net.ipv4.ip_forward", "1");
            // IPv4 only until IPv6 VIPs land: keep the kernel from sending router solicitations and MLD into the device.
            _net.WriteSysctl($"net.ipv6.conf.{dev}.disable_ipv6", "1");
            var vips = _cfg.Services.Select(s => s.Vip).Distinct().ToList();
            foreach (var vip in vips)
                _net.AddRoute(vip, vip.IsV4 ? 32 : 128, dev);
            _tx = RawIpSocket.OpenSender();
            _worker = new Thread(Run) { IsBackground = true, Name = "tunlb-worker" };
            _worker.Start();
            int reals = Services.Sum(s => s.Destinations.Length);
            return $"capture device {dev} (mtu {d.TunMtu}) routes {string.Join(", ", vips.Select(v => v + "/32"))}; ip_forward=1; " +
                   $"{Services.Count} service(s), {reals} real server(s)";
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Run()
    {
        var inBuf = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var outBuf = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var tun = _tun!; var tx = _tx!; var engine = Engine;
        long lastExpire = Environment.TickCount64;
        while (!_stop)
        {
            int n = tun.Receive(inBuf, 100);
            long now = Environment.TickCount64;
            if (n < 0) break;
            if (n > 0)
            {
                var verdict = engine.Process(inBuf.AsSpan(0, n), outBuf, now, out int len, out IpAddress nextHop);
                if (verdict == DropReason.None)
                {
                    if (tx.Send(outBuf.AsSpan(0, len), nextHop)) { Forwarded++; ForwardedBytes += len; }
                    else engine.Drops[(int)DropReason.SendError]++;
                }
            }
            if (now - lastExpire >= 100)
            {
                engine.Expire(now, ExpireBudget);
                lastExpire = now;
            }
        }
    }

    public string Summary()
    {
        var drops = string.Join(" ", Enumerable.Range(1, DropReasons.Count - 1)
            .Where(i => Engine.Drops[i] != 0).Select(i => $"{DropReasons.Names[i]}={Engine.Drops[i]}"));
        long conns = Services.Sum(s => s.Connections);
        return $"forwarded {Forwarded} packets ({ForwardedBytes} bytes) in IPIP, {conns} connections, " +
               $"{Engine.Connections.Count} in table; dropped: {(drops.Length == 0 ? "none" : drops)}";
    }

    public void Dispose()
    {
        _stop = true;
        _worker?.Join(2000);
        _tx?.Dispose();
        _net.Dispose();   // routes and sysctls first, while the device still exists
        _tun?.Dispose();
    }
}
