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
            // With io = "afpacket" the kernel forwards nothing, so there is no TTL decrement to undo.
            InnerTtlIncrement = (byte)(d.RestoreInnerTtl && d.Io != IoBackend.AfPacket ? 1 : 0),
            SloppyTcp = d.EffectiveSloppyTcp,
            ExpireQuiescentTemplate = d.ExpireQuiescentTemplate,
            HashSeed = seed,
            AnswerPing = d.AnswerPing,
            // The ICMP budget is per worker: split so the director as a whole keeps icmp_rate / icmp_burst.
            IcmpRatePerSecond = Math.Max(1, d.IcmpRate / workers),
            IcmpBurst = Math.Max(1, d.IcmpBurst / workers),
            FragmentTableCapacity = Math.Max(ConfigLoader.FragmentTableMinimum, (d.FragMax + workers - 1) / workers),
        });
}
