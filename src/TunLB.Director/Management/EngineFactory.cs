using TunLB.Control.Configuration;
using TunLB.Core.Connections;
using TunLB.Core.DataPath;

namespace TunLB.Director.Management;

/// <summary>The data-path engines for the <c>[director]</c> settings: one per worker, sharing one hash seed.</summary>
internal static class EngineFactory
{
    public static DirectorEngine[] Create(DirectorSettings d, ulong seed)
    {
        int workers = d.EffectiveWorkers;
        var engines = new DirectorEngine[workers];
        for (int w = 0; w < workers; w++) engines[w] = Create(d, w, workers, seed);
        foreach (var e in engines) e.SetPeers(engines);
        return engines;
    }

    /// <summary>
    /// Engine <paramref name="w"/> of <paramref name="workers"/>: conn_max and frag_max are split between the workers
    /// (rounded up), so the director's memory and limits stay those of the config.
    /// </summary>
    private static DirectorEngine Create(DirectorSettings d, int w, int workers, ulong seed) =>
        new(new DirectorEngineOptions
        {
            WorkerIndex = w,
            WorkerCount = workers,
            ConnectionCapacity = (int)(((long)d.ConnMax + workers - 1) / workers),
            FullTablePolicy = d.ConnFullPolicy == "refuse" ? FullTablePolicy.Refuse : FullTablePolicy.EvictOldest,
            Timeouts = ConnTimeouts.Default.WithIpvsadmSet(d.TimeoutTcp, d.TimeoutTcpFin, d.TimeoutUdp),
            OuterTtl = (byte)d.Ttl,
            // With io = "afpacket" or "xdp" the kernel forwards nothing, so there is no TTL decrement to undo; "auto" starts
            // as "tun" and the runtime sets the engines once it knows (DirectorEngine.InnerTtlIncrement).
            InnerTtlIncrement = (byte)(d.RestoreInnerTtl && d.Io is IoBackend.Tun or IoBackend.Auto ? 1 : 0),
            SloppyTcp = d.EffectiveSloppyTcp,
            ExpireQuiescentTemplate = d.ExpireQuiescentTemplate,
            HashSeed = seed,
            AnswerPing = d.AnswerPing,
            // The ICMP budget is per worker: split so the director as a whole keeps icmp_rate / icmp_burst.
            IcmpRatePerSecond = Math.Max(1, d.IcmpRate / workers),
            IcmpBurst = Math.Max(1, d.IcmpBurst / workers),
            FragmentTableCapacity = Math.Max(ConfigLoader.FragmentTableMinimum, (d.FragMax + workers - 1) / workers),
            SynFlood = SynFlood(d),
        });

    /// <summary>The SYN flood defence of one worker: syn_flood_rate is per worker, as Katran's limit is per core.</summary>
    internal static SynFloodOptions SynFlood(DirectorSettings d) => new()
    {
        RatePerSecond = d.SynFloodRate,
        Mode = d.SynFloodMode switch
        {
            "stateless" => SynFloodMode.Stateless,
            "both" => SynFloodMode.Stateless | SynFloodMode.ShortSynRecv,
            _ => SynFloodMode.ShortSynRecv,
        },
        ShortSynRecvMs = d.SynFloodSynRecvTimeout * 1000L,
        HalfOpenEvictFill = d.ConnHalfOpenFill / 100.0,
    };
}
