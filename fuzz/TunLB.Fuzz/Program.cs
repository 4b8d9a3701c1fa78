using SharpFuzz;
using TunLB.Fuzz;

// tunlb-fuzz TARGET            run under afl-fuzz (SharpFuzz's fork server; reads each input from stdin)
// tunlb-fuzz TARGET FILE...    run each file once and report (reproduce a crash or replay a corpus by hand)
if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: TunLB.Fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTargets.Names)}");
    return 2;
}
if (args.Length > 1)
{
    var target = FuzzTargets.Create(args[0]);
    int failed = 0;
    foreach (var path in args.Skip(1))
    {
        try { target.Run(File.ReadAllBytes(path)); }
        catch (Exception e) { failed++; Console.Error.WriteLine($"{path}: {e}"); }
    }
    Console.WriteLine($"{args.Length - 1 - failed} passed, {failed} failed");
    return failed == 0 ? 0 : 1;
}
// Instrumented code may run only inside Fuzzer.Run (its coverage map is set up there), so the target is made there.
IFuzzTarget? fuzzed = null;
var buffer = new MemoryStream();
Fuzzer.Run(stream =>
{
    fuzzed ??= FuzzTargets.Create(args[0]);
    buffer.SetLength(0);
    stream.CopyTo(buffer);
    fuzzed.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
});
return 0;
