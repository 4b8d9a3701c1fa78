namespace TunLB.Fuzz;

/// <summary>
/// One fuzzing target: runs one input through the code under test. Documented outcomes (a config error, a parse error,
/// a drop verdict) return normally; any exception that escapes is a finding (AFL++ records it as a crash).
/// </summary>
public interface IFuzzTarget
{
    /// <summary>The name used by scripts/fuzz and as the corpus folder (fuzz/corpus/NAME).</summary>
    string Name { get; }

    void Run(ReadOnlySpan<byte> input);
}
