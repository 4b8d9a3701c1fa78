using BenchmarkDotNet.Running;

namespace TunLB.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project bench/TunLB.Benchmarks -- --filter '*Parse*' --job short
    // dotnet run -c Release --project bench/TunLB.Benchmarks -- memory [entries] [--json file]
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "memory") return ConnectionMemory.Run(args);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
