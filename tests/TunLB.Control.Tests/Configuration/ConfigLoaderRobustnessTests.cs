using CsCheck;
using TunLB.Control.Configuration;

namespace TunLB.Control.Tests.Configuration;

public class ConfigLoaderRobustnessTests
{
    private static void OnlyConfigException(Action load)
    {
        try { load(); }
        catch (ConfigException ex) { Assert.NotEmpty(ex.Errors); Assert.All(ex.Errors, e => Assert.True(e.Line >= 0)); }
    }

    [Fact]
    public void Mangled_example_lines_never_throw_anything_but_ConfigException()
    {
        var lines = ConfigLoaderDirectorTests.Example.Split('\n');
        // Drop, duplicate or truncate random lines of a valid file.
        Gen.Select(Gen.Int[0, lines.Length - 1], Gen.Int[0, 2], Gen.Int[0, 40]).Array[1, 6].Sample(edits =>
        {
            var l = lines.ToList();
            foreach (var (i, op, cut) in edits)
            {
                if (i >= l.Count) continue;
                if (op == 0) l.RemoveAt(i);
                else if (op == 1) l.Insert(i, l[i]);
                else l[i] = l[i][..Math.Min(cut, l[i].Length)];
            }
            OnlyConfigException(() => ConfigLoader.ParseDirector(string.Join('\n', l), "d.toml"));
            OnlyConfigException(() => ConfigLoader.ParseRealServer(string.Join('\n', l), "rs.toml"));
        }, iter: 500);
    }
}
