using System.Diagnostics;
using Xunit;

namespace TunLB.Tests.Shared;

/// <summary>
/// Compiles a C program with gcc and runs it; the program prints one <c>name=value</c> line per size, offset or constant
/// of the kernel/libc headers (the layout tests compare them with the C# declarations, as Tmds.LibC does).
/// Linked into the test projects that check native layouts.
/// </summary>
internal static class CHeaderValues
{
    public static Dictionary<string, long> CompileAndRun(string cProgram)
    {
        string dir = Directory.CreateTempSubdirectory("tunlb-layout-").FullName;
        try
        {
            string src = Path.Combine(dir, "layout.c"), exe = Path.Combine(dir, "layout");
            File.WriteAllText(src, cProgram);
            Run("gcc", "-D_GNU_SOURCE", "-o", exe, src);
            var values = new Dictionary<string, long>();
            foreach (var line in Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = line.IndexOf('=');
                values[line[..eq]] = long.Parse(line[(eq + 1)..]);
            }
            return values;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Asserts that <paramref name="ours"/> names exactly the values the C program printed, with the same values.</summary>
    public static void AssertSame(Dictionary<string, long> native, IReadOnlyDictionary<string, long> ours)
    {
        Assert.Equal(native.Keys.Order(), ours.Keys.Order());
        foreach (var (k, v) in native) Assert.True(v == ours[k], $"{k}: C {v}, C# {ours[k]}");
    }

    private static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} failed: {stderr.Result}");
        return output;
    }
}
