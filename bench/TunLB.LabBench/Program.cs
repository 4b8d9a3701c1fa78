using System.Runtime.InteropServices;
using System.Text.Json;
using TunLB.Lab;

namespace TunLB.LabBench;

/// <summary>The namespace benchmarks and the report writer, run by scripts/bench (not part of the tunlb binary).</summary>
public static class Program
{
    private const string Usage = """
        usage: TunLB.LabBench lab --tunlb PATH [--quick] [--only forward,conn,http] [--modes tunlb,tunlb-afpacket,...] [--json FILE]
               TunLB.LabBench report --micro DIR --memory FILE --lab FILE --out docs/performance.md [--quick] [--command TEXT]
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
                var result = BenchRun.Run(new BenchOptions([tunlb], quick, Console.Out, only, modes), t => topo = t);
                if (json != null) File.WriteAllText(json, JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));
                return result.Errors.Count == 0 ? 0 : 1;
            }
            case "report":
                return Report.Write(Arg("--micro"), Arg("--memory"), Arg("--lab"), Arg("--out") ?? "docs/performance.md", quick, Arg("--command") ?? "scripts/bench");
            default:
                Console.Error.WriteLine($"unknown mode {args[0]}\n" + Usage);
                return 2;
        }
    }
}
