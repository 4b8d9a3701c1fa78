using BenchmarkDotNet.Running;

namespace TunLB.Benchmarks;

public static class Program
{
    // dotnet run -c Release --project bench/TunLB.Benchmarks -- --filter '*Parse*' --job short
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
