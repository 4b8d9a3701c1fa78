using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// <c>tunlb director --check</c> and <c>tunlb realserver --check</c>, run as a user would: every error with
/// file:line:key, exit 1 for a file the daemon would refuse, 0 for one it would start, and nothing on the host.
/// </summary>
public sealed class ConfigCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static Sh.Result Tunlb(params string[] args) => Sh.Run(EndToEnd.Tests.Tunlb.Command()[0], args, 60_000);

    private const string Good = """
        [director]
        api = "127.0.0.1:9400"
        tun_name = "tunlb-chk0"

        [[service]]
        vip = "203.0.113.10"
        port = 80
        protocol = "tcp"
        scheduler = "mh"

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        encap = "gue"
        """;

    [Fact]
    public void ABadDirectorFileListsEveryErrorWithItsLineAndExits1()
    {
        var path = Write("bad.toml", Good.Replace("scheduler = \"mh\"", "scheduler = \"nope\"").Replace("encap = \"gue\"", "encap = \"gre\"\nweight = 70000"));
        var r = Tunlb("director", "--config", path, "--check");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{path}:9:1: service[0].scheduler", r.Stderr);
        Assert.Contains($"{path}:16:1: service[0].real[1].encap", r.Stderr);
        Assert.Contains("service[0].real[1].weight", r.Stderr);
        Assert.Contains("check failed (3 errors)", r.Stderr);
    }

    [Fact]
    public void BadSyncValuesAreListedWithTheirLineAndAGoodSyncTableIsOk()
    {
        var bad = Write("sync-bad.toml", Good + "\n\n[sync]\npeers = [\"224.0.0.81\"]\nkey = \"short\"\nport = 0\n");
        var r = Tunlb("director", "--config", bad, "--check");
        Assert.Equal(1, r.ExitCode);
        Assert.Matches(System.Text.RegularExpressions.Regex.Escape(bad) + @":19:\d+: sync\.peers\[0\]: .*multicast", r.Stderr);
        Assert.Contains("sync.key: the key is 5 characters long", r.Stderr);
        Assert.Contains("sync.port: 0 is out of range", r.Stderr);
        Assert.Contains("check failed (3 errors)", r.Stderr);

        var good = Write("sync-good.toml", Good + "\n\n[sync]\npeers = [\"192.0.2.3\", \"192.0.2.4\"]\nkey = \"0123456789abcdef0123\"\n");
        var ok = Tunlb("director", "--config", good, "--check");
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("sync with 2 peer(s) on port 8848", ok.Stdout);
    }

    [Fact]
    public void AGoodDirectorFileIsOkAndNothingIsCreatedOnTheHost()
    {
        var path = Write("good.toml", Good);
        var r = Tunlb("director", "-c", path, "-t");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("ok: 1 service(s), 2 real server(s)", r.Stdout);
        Assert.DoesNotContain("tunlb-chk0", Sh.Ok("ip", "-o", "link", "show"));
    }

    [Fact]
    public void AnOpenApiWithoutATokenFailsTheCheckAsItWouldFailTheStart()
    {
        var path = Write("open.toml", Good.Replace("127.0.0.1:9400", "0.0.0.0:9400"));
        var r = Tunlb("director", "-c", path, "--check");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("api_token", r.Stderr);
    }

    [Fact]
    public void TheRealServerCheckListsErrorsAndPassesAGoodFile()
    {
        var bad = Write("rs-bad.toml", "[realserver]\nvips = [\"203.0.113.300\"]\ndirectors = []\n");
        var r = Tunlb("realserver", "--config", bad, "--check");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"{bad}:2:", r.Stderr);
        var good = Write("rs.toml", "[realserver]\nvips = [\"203.0.113.10\"]\ndirectors = [\"192.0.2.1\"]\n");
        var ok = Tunlb("realserver", "--config", good, "--check");
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("ok: 1 VIP(s), 1 director(s)", ok.Stdout);
    }

    [Fact]
    public void TheShippedExamplesPassTheCheck()
    {
        var dir = Path.Combine(EndToEnd.Tests.Tunlb.RepoRoot(), "dist", "examples");
        var d = Tunlb("director", "--config", Path.Combine(dir, "director.toml"), "--check");
        Assert.True(d.ExitCode == 0, d.Stdout + d.Stderr);
        Assert.Contains("ok: 1 service(s), 2 real server(s), 2 health-checked", d.Stdout);
        var r = Tunlb("realserver", "--config", Path.Combine(dir, "realserver.toml"), "--check");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
    }
}
