using BenchmarkDotNet.Attributes;
using TunLB.Core.DataPath;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Benchmarks;

/// <summary>
/// DirectorEngine.Process for packets of established TCP flows: parse, service lookup, connection lookup,
/// TCP state, LRU touch, IPIP encapsulation and counters. Must allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class EstablishedFlowBenchmarks
{
    private const int Backends = 8;
    /// <summary>Flows in the table for the many-flows case; equal to the default conn_max.</summary>
    private const int ManyFlows = 1 << 20;
    private const long Now = 1_000_000;

    private DirectorEngine _one = null!, _many = null!;
    private byte[] _ack = null!, _acks = null!;
    // As a worker gives the engine: an output buffer and packet slots for one input.
    private readonly byte[] _output = new byte[OutputPacket.DefaultOutputBytes];
    private readonly OutputPacket[] _packets = new OutputPacket[OutputPacket.DefaultMaxPackets];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        // One established flow, the same packet every time (everything stays in L1).
        (_one, _) = BenchPackets.Engine("wlc", Backends, 65536);
        var syn = new byte[BenchPackets.TcpLength];
        BenchPackets.WriteTcp(syn, 0xC6336400u + 10, 40000, TcpFlags.Syn);
        _ack = new byte[BenchPackets.TcpLength];
        BenchPackets.WriteTcp(_ack, 0xC6336400u + 10, 40000, TcpFlags.Ack);
        Check(_one.Process(syn, _output, _packets, Now, out _));
        Check(_one.Process(_ack, _output, _packets, Now, out _));

        // 1,048,576 established flows in a table of the same size, visited round-robin: every lookup
        // misses the CPU caches (84 MB table), as on a busy director.
        (_many, _) = BenchPackets.Engine("wlc", Backends, ManyFlows);
        var syns = BenchPackets.Packets(ManyFlows, TcpFlags.Syn);
        _acks = BenchPackets.Packets(ManyFlows, TcpFlags.Ack);
        for (int i = 0; i < ManyFlows; i++)
        {
            Check(_many.Process(syns.AsSpan(i * BenchPackets.TcpLength, BenchPackets.TcpLength), _output, _packets, Now, out _));
            Check(_many.Process(_acks.AsSpan(i * BenchPackets.TcpLength, BenchPackets.TcpLength), _output, _packets, Now, out _));
        }
        if (_many.Connections.Count != ManyFlows) throw new InvalidOperationException("setup: table not filled");
    }

    internal static void Check(DropReason r)
    {
        if (r != DropReason.None) throw new InvalidOperationException($"benchmark setup: packet dropped ({r})");
    }

    [Benchmark(Description = "Process: established flow (1 flow, hot cache)")]
    public int EstablishedOneFlow() =>
        _one.Process(_ack, _output, _packets, Now, out int n) == DropReason.None ? n : -1;

    [Benchmark(Description = "Process: established flows (1M flows, round-robin)")]
    public int EstablishedManyFlows()
    {
        int i = _next;
        _next = (i + 1) & (ManyFlows - 1);
        return _many.Process(_acks.AsSpan(i * BenchPackets.TcpLength, BenchPackets.TcpLength), _output, _packets, Now, out int n) == DropReason.None ? n : -1;
    }
}

/// <summary>
/// DirectorEngine.Process for a TCP SYN of a flow the table has never seen (or has evicted), under each
/// scheduler. Steady state of a full table: the table holds <see cref="Capacity"/> entries (the default
/// conn_max, 1,000,000, or 65,536) and is full before measuring; the packets cycle through at least twice
/// as many distinct flows (source address x source port: 2,097,152 or 131,072), so when a flow comes
/// round again its entry was evicted long ago. Every
/// measured packet therefore schedules, evicts the least recently used entry (policy evict_oldest) and
/// inserts: the per-new-flow cost of a director at its connection limit. (An empty table cannot be kept
/// empty across the millions of invocations BenchmarkDotNet makes; <see cref="NewFlowIntoEmptyTable"/>
/// measures inserts without eviction separately.)
/// </summary>
[MemoryDiagnoser]
public class NewFlowBenchmarks
{
    private const int Backends = 8;
    private const long Now = 1_000_000;

    [Params("rr", "wrr", "lc", "wlc", "sh", "dh", "mh")]
    public string Scheduler { get; set; } = "rr";

    /// <summary>Table size: the default conn_max (84 MB, DRAM-bound) and a cache-sized 65,536 (5.5 MB).</summary>
    [Params(1_000_000, 65_536)]
    public int Capacity { get; set; } = 1_000_000;

    private int _flows;

    private DirectorEngine _engine = null!;
    private byte[] _syns = null!;
    // As a worker gives the engine: an output buffer and packet slots for one input.
    private readonly byte[] _output = new byte[OutputPacket.DefaultOutputBytes];
    private readonly OutputPacket[] _packets = new OutputPacket[OutputPacket.DefaultMaxPackets];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _flows = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Capacity * 2);
        (_engine, _) = BenchPackets.Engine(Scheduler, Backends, Capacity);
        _syns = BenchPackets.Packets(_flows, TcpFlags.Syn);
        // Fill the table (and one more lap so the LRU order is the steady-state one).
        for (int i = 0; i < _flows; i++)
            EstablishedFlowBenchmarks.Check(_engine.Process(_syns.AsSpan(i * BenchPackets.TcpLength, BenchPackets.TcpLength), _output, _packets, Now, out _));
        if (_engine.Connections.Count != Capacity) throw new InvalidOperationException("setup: table not full");
        _next = 0;
    }

    [Benchmark(Description = "Process: new flow (full table, evicts oldest)")]
    public int NewFlow()
    {
        int i = _next;
        _next = (i + 1) & (_flows - 1);
        return _engine.Process(_syns.AsSpan(i * BenchPackets.TcpLength, BenchPackets.TcpLength), _output, _packets, Now, out int n) == DropReason.None ? n : -1;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        // Every measured packet must have been a new connection: connections created = packets forwarded.
        long conns = _engine.Services.Values.Sum(s => s.Connections);
        if (conns != _engine.ForwardedPackets)
            throw new InvalidOperationException($"not every packet created a connection: {conns} connections for {_engine.ForwardedPackets} packets");
        if (_engine.Drops.Sum() != 0) throw new InvalidOperationException("drops during the benchmark");
    }
}

/// <summary>
/// Inserting new flows into an empty 1,000,000-entry table until it is full (no eviction): each
/// invocation gets a fresh engine (built in IterationSetup, not measured) and processes 1,000,000 SYNs of
/// distinct flows; the result is per packet.
/// </summary>
[MemoryDiagnoser]
public class NewFlowIntoEmptyTable
{
    private const int Capacity = 1_000_000;
    private const long Now = 1_000_000;

    [Params("rr", "mh")]
    public string Scheduler { get; set; } = "rr";

    private DirectorEngine _engine = null!;
    private byte[] _syns = null!;
    // As a worker gives the engine: an output buffer and packet slots for one input.
    private readonly byte[] _output = new byte[OutputPacket.DefaultOutputBytes];
    private readonly OutputPacket[] _packets = new OutputPacket[OutputPacket.DefaultMaxPackets];

    [GlobalSetup]
    public void Setup() => _syns = BenchPackets.Packets(Capacity, TcpFlags.Syn);

    [IterationSetup]
    public void Fresh()
    {
        _engine = null!;
        GC.Collect();
        (_engine, _) = BenchPackets.Engine(Scheduler, 8, Capacity);
    }

    [Benchmark(OperationsPerInvoke = Capacity, Description = "Process: new flow (empty 1M table filling, no eviction)")]
    public int Fill()
    {
        var e = _engine; var syns = _syns; var output = _output; var packets = _packets;
        int ok = 0;
        for (int i = 0; i < Capacity; i++)
            if (e.Process(syns.AsSpan(i * BenchPackets.TcpLength, BenchPackets.TcpLength), output, packets, Now, out _) == DropReason.None) ok++;
        if (ok != Capacity || e.Connections.Evictions != 0) throw new InvalidOperationException("fill: not all packets were new connections");
        return ok;
    }
}
