using System.Diagnostics;
using TunLB.Fuzz;

namespace TunLB.Fuzz.Tests;

/// <summary>
/// Replays every file of fuzz/corpus/TARGET (seeds, inputs the fuzzer kept, crash regressions) through its target in
/// this process, without instrumentation: any exception is a regression. scripts/fuzz does the real fuzzing.
/// </summary>
public class CorpusReplayTests
{
    public static TheoryData<string> Targets => new(FuzzTargets.Names);

    private static string CorpusRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var c = Path.Combine(d.FullName, "fuzz", "corpus");
            if (Directory.Exists(c)) return c;
        }
        throw new DirectoryNotFoundException("fuzz/corpus not found above " + AppContext.BaseDirectory);
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_corpus_file_runs_through_its_target_without_an_exception(string name)
    {
        var files = Directory.GetFiles(Path.Combine(CorpusRoot(), name)).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)).Order().ToArray();
        Assert.NotEmpty(files);
        var target = FuzzTargets.Create(name);
        Assert.Equal(name, target.Name);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        foreach (var f in files)
        {
            try { target.Run(File.ReadAllBytes(f)); }
            catch (Exception e) { failures.Add($"{Path.GetFileName(f)}: {e.GetType().Name}: {e.Message}"); }
        }
        Assert.True(failures.Count == 0, string.Join('\n', failures));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{files.Length} files took {clock.Elapsed}");
    }

    [Fact]
    public void Every_target_has_a_corpus_folder_and_nothing_else_is_there()
    {
        var dirs = Directory.GetDirectories(CorpusRoot()).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(FuzzTargets.Names.Order().ToArray(), dirs);
    }
}
