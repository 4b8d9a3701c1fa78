using System.Runtime.InteropServices;
using System.Text.Json;
using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>The namespace benchmarks and the report writer, run by scripts/bench (not part of the tunlb binary).</summary>
public static class Program
{
    private const string Usage = """
        usage: TunLB.LabBench lab --tunlb PATH [--quick] [--topology flat,routed] [--only forward,conn,http,latency]
                                  [--io tun,afpacket] [--workers 1,2] [--no-cpu-split] [--decap agent|xdp] [--modes kernel,tunlb-tun,tunlb-afpacket-2w,...] [--json FILE]
               TunLB.LabBench report --micro DIR --memory FILE --lab FILE --out docs/performance.md [--quick] [--command TEXT]
          --topology  the topologies to build and run everything on, one after the other (default: flat,routed)
          --io        the director io backends to measure, the default one first (its rows are the "default" in the report)
          --workers   worker counts for the forwarding scenario
          --no-cpu-split  skip the second run of each one-worker mode with the director pinned and RPS on the next hop
          --decap     the real servers' [realserver] decap (default agent: user space; xdp: in the kernel by XDP)
          --json      writes a JSON array, one result per topology
        """;

    public static int Main(string[] args)
    {
        if (args.Length == 0) { Console.Error.WriteLine(Usage); return 2; }
        if (args.Contains("--help") || args.Contains("-h")) { Console.WriteLine(Usage); return 0; }
        string? Arg(string name) { int i = Array.IndexOf(args, name); return i >= 0 && i + 1 < args.Length ? args[i + 1] : null; }
        bool quick = args.Contains("--quick");
        switch (args[0])
        {
            case "lab":
            {
                if (Arg("--tunlb") is not { } tunlb) { Console.Error.WriteLine("lab: --tunlb PATH is required\n" + Usage); return 2; }
                var only = Arg("--only")?.Split(',').ToHashSet();
                var modes = Arg("--modes")?.Split(',').ToHashSet();
                var json = Arg("--json");
                Topology? topo = null;
                void Cleanup(PosixSignalContext ctx) { ctx.Cancel = true; Console.WriteLine("\ninterrupted: removing the lab"); topo?.Dispose(); Environment.Exit(130); }
                using var r1 = PosixSignalRegistration.Create(PosixSignal.SIGINT, Cleanup);
                using var r2 = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Cleanup);
                Prerequisites.Ensure(Console.Out);
                var ios = Arg("--io")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var workers = Arg("--workers")?.Split(',').Select(int.Parse).ToArray();
                var topologies = (Arg("--topology") ?? string.Join(',', BenchTopology.Kinds)).Split(',');
                if (topologies.FirstOrDefault(k => !BenchTopology.Kinds.Contains(k)) is { } bad) { Console.Error.WriteLine($"lab: unknown topology {bad}\n" + Usage); return 2; }
                var results = new List<LabBenchResult>();
                foreach (var kind in topologies)
                {
                    var o = new BenchOptions([tunlb], quick, Console.Out, only, modes, ios, workers, !args.Contains("--no-cpu-split"), kind,
                        Arg("--decap") ?? "agent");
                    results.Add(BenchRun.Run(o, t => topo = t));
                    topo = null;
                }
                if (json != null) File.WriteAllText(json, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
                return results.All(r => r.Errors.Count == 0) ? 0 : 1;
            }
            case "report":
                return Report.Write(Arg("--micro"), Arg("--memory"), Arg("--lab"), Arg("--out") ?? "docs/performance.md", quick, Arg("--command") ?? "scripts/bench");
            default:
                Console.Error.WriteLine($"unknown mode {args[0]}\n" + Usage);
                return 2;
        }
    }
}
