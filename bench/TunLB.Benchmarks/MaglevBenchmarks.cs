using BenchmarkDotNet.Attributes;
using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Scheduling;

namespace TunLB.Benchmarks;

/// <summary>Maglev lookup-table build (control plane) for M = 65537, through IScheduler.Update as the director does it.</summary>
[MemoryDiagnoser]
public class MaglevBuildBenchmarks
{
    [Params(10, 100, 1000)]
    public int Backends { get; set; }

    private IScheduler _mh = null!;
    private Destination[] _dests = null!;

    [GlobalSetup]
    public void Setup()
    {
        _mh = SchedulerFactory.Create("mh", new SchedulerOptions(65537));
        _dests = new Destination[Backends];
        for (int i = 0; i < Backends; i++)
            _dests[i] = new Destination(i + 1, IpAddress.FromV4(0xC6120000u + (uint)i), 80, 1);
    }

    [Benchmark(Description = "Maglev table build, M=65537")]
    public void Build() => _mh.Update(_dests);
}
