using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.Model;
using TunLB.Director.Health;

namespace TunLB.Director.Management;

/// <summary>One connection-table entry as listed (ipvsadm -L -c).</summary>
public sealed record ConnectionView(byte Protocol, string Client, int ClientPort, string Vip, int VipPort, string Real, int RealPort,
    string State, double ExpiresSeconds, bool Template);

// Counters, rates, timeouts and connection listings; building the published view.
public sealed partial class DirectorState
{
    /// <summary>ipvsadm -Z: zeroes the counters of every service (null) or one service, on the workers.</summary>
    public void Zero(ServiceKey? key)
    {
        lock (_gate)
        {
            var targets = key is { } k ? [Get(k)] : _entries.ToList();
            // Each worker zeroes its own counter slots, so no increment races the zeroing.
            OnWorkers(engine =>
            {
                int w = engine.WorkerIndex;
                foreach (var e in targets)
                {
                    e.Stats.Zero(w);
                    foreach (var d in e.Destinations) d.Stats.Zero(w);
                }
                return 0;
            });
            foreach (var e in targets)
            {
                e.Rates.Reset();
                foreach (var d in e.Destinations) _rates.Reset(d);
            }
            if (targets.Count == _entries.Count) _rates.Total.Reset();
        }
    }

    public ConnTimeouts Timeouts => Engine.Timeouts;

    /// <summary>ipvsadm --set tcp tcpfin udp (seconds; 0 = unchanged). Returns the timeouts now in effect.</summary>
    public ConnTimeouts SetTimeouts(int tcp, int tcpFin, int udp)
    {
        lock (_gate)
        {
            var next = Engine.Timeouts.WithIpvsadmSet(tcp, tcpFin, udp);
            OnWorkers(engine => { engine.SetTimeouts(next); return 0; });
            _o.Log($"tunlb director: api: timeouts (tcp tcpfin udp) {next.TcpMs / 1000} {next.TcpFinMs / 1000} {next.UdpMs / 1000}");
            return next;
        }
    }

    /// <summary>One estimator tick: samples every service, real server and the total. Called every 2 s by a control timer.</summary>
    public void SampleRates() => SampleRates(null);

    /// <summary>Estimator tick with an explicit interval (tests).</summary>
    public void SampleRates(double seconds) => SampleRates((double?)seconds);

    private void SampleRates(double? seconds)
    {
        lock (_gate)
        {
            double s = seconds ?? _rates.SecondsSinceLastSample();
            _rates.Sample(_entries, s);
            long c = 0, p = 0, b = 0, drops = 0;
            foreach (var e in _entries) { c += e.Stats.Connections; p += e.Stats.InPackets; b += e.Stats.InBytes; }
            var sum = Drops();
            for (int i = 1; i < sum.Length; i++) drops += sum[i];
            History.Add(_o.Time.GetUtcNow(), s, c, p, b, drops, ConnectionCount);
        }
    }

    /// <summary>The last 10 minutes of director-wide rates, table fill and drops (the estimator tick's samples).</summary>
    public History History { get; } = new();

    /// <summary>The director-wide estimator.</summary>
    public RateEstimator TotalRates => _rates.Total;

    /// <summary>
    /// The connection tables of all workers (ipvsadm -L -c), each copied by its worker, concatenated in worker order.
    /// At most <paramref name="limit"/> entries.
    /// </summary>
    public IReadOnlyList<ConnectionView> ListConnections(int limit = int.MaxValue)
    {
        var parts = OnWorkers(engine =>
        {
            long now = _o.Clock();
            var list = new List<ConnectionView>();
            foreach (var c in engine.Connections.EnumerateEntries())
            {
                if (list.Count >= limit) break;
                var k = c.Key;
                var d = engine.FindDestination(c.DestinationId);
                bool t = c.IsTemplate;
                // A template's key: masked client, VIP, service protocol in the client-port field, service port, protocol 0.
                byte proto = t ? (byte)k.SourcePort : k.Protocol;
                list.Add(new ConnectionView(proto, k.Source.ToString(), t ? 0 : k.SourcePort, k.Destination.ToString(), k.DestinationPort,
                    d?.Address.ToString() ?? "", d?.Port ?? 0, c.State.Name(), Math.Max(0, c.ExpiresAtMs - now) / 1000.0, t));
            }
            return list;
        });
        return parts.SelectMany(x => x).Take(limit).ToArray();
    }

    /// <summary>The view of everything as it is now. Call under the lock.</summary>
    private DirectorView BuildView()
    {
        var services = new ServiceView[_entries.Count];
        for (int i = 0; i < services.Length; i++)
        {
            var e = _entries[i];
            var sorry = e.Health.Sorry;
            services[i] = new ServiceView
            {
                Key = e.Key, Scheduler = e.Scheduler, Flags = e.Flags, MhTableSize = e.MhTableSize,
                PersistenceSeconds = e.PersistenceSeconds, PersistencePrefix = e.PersistencePrefix,
                Service = e.Published!, Rates = e.Rates, HealthSpec = e.Health.Spec, QuorumUp = e.Health.QuorumUp,
                LiveWeight = _availability.LiveWeightSum(e), SorryActive = e.Health.SorryActive,
                Reals = e.Destinations.Select(d => RealViewOf(d, e)).ToArray(),
                StandbySorry = sorry is not null && !e.Destinations.Contains(sorry.Dest) ? RealViewOf(sorry.Dest, e) : null,
            };
        }
        var pins = Engine.Pinned;
        return new DirectorView
        {
            Services = services,
            Vips = _entries.Select(e => e.Key.Vip).Distinct().ToArray(),
            Settings = _settings,
            Version = ++_version,
            CheckPorts = pins is null ? _settings.CheckPortRange + " (not in use)" : $"{pins.FirstPort}-{pins.LastPort}",
        };
    }

    private RealView RealViewOf(Destination d, ServiceEntry? e)
    {
        RealHealthView? hv = null;
        if (_health.TryGet(d.Id, out var h))
        {
            var now = _o.Time.GetUtcNow();
            string status = h.IsSorry ? (h.Svc.Health.SorryActive ? "sorry" : "standby") : h.Machine is null ? "unchecked" : h.Up ? "up" : "down";
            hv = new RealHealthView(status, h.Spec, h.ConfiguredWeight, h.Admin, h.Draining, h.RemoveWhenIdle,
                h.Machine?.SuppressionReason(now) is not null || (h.Machine?.Suppressed ?? false), h.IsSorry, h.Up,
                h.Last, h.LastCheck, h.LastChange, h.Failures, h.Machine?.Transitions ?? 0, h.Maintenance);
        }
        return new RealView { Dest = d, ConfiguredWeight = h?.ConfiguredWeight ?? d.Weight, Rates = _rates.Of(d), Health = hv };
    }
}
