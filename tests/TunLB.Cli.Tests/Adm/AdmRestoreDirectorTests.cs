using TunLB.Cli.Adm;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;

namespace TunLB.Cli.Tests.Adm;

/// <summary>
/// <c>tunlb adm -R</c> against a running director API (Kestrel on 127.0.0.1, a random port, over a DirectorState without
/// TUN): a restore file with one bad line changes nothing (<c>adm -S</c> before and after), a good one is applied whole.
/// </summary>
public sealed class AdmRestoreDirectorTests : IAsyncLifetime
{
    private const string Config = """
        [director]
        api = "127.0.0.1:9400"
        conn_max = 1000

        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"

        [[service.real]]
        address = "192.0.2.11"
        """;

    private static readonly AdmEnvironment NoEnv = new(_ => null, "/nonexistent/director.toml", null, null);
    private DirectorState _state = null!;
    private ApiServer _api = null!;

    public async Task InitializeAsync()
    {
        _state = new DirectorState(ConfigLoader.ParseDirector(Config, "restore.toml"), new DirectorStateOptions { RunHook = (_, _) => { } });
        _api = await ApiServer.StartAsync(_state, _state.Settings with { ApiPort = 0 });
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private string Api => $"127.0.0.1:{_api.EndPoints[0].Port}";

    private (int Code, string Out, string Err) Adm(string stdin, params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AdmCommand.Run([.. args, "--api", Api], o, e, new StringReader(stdin), NoEnv);
        return (code, o.ToString(), e.ToString());
    }

    private string Save()
    {
        var (code, output, err) = Adm("", "-S", "-n");
        Assert.True(code == 0, err);
        return output;
    }

    // A DR save as ipvsadm writes it, plus script lines with the program's path and sudo.
    private const string Good = """
        -A -t 203.0.113.20:443 -s wlc -p 300
        -a -t 203.0.113.20:443 -r 192.0.2.21:443 -i -w 5
        /sbin/ipvsadm -a -t 203.0.113.20:443 -r 192.0.2.22:443 -i -w 5
        sudo -n /usr/sbin/ipvsadm -A -t 203.0.113.30:80 -s mh -b flag-2
        sudo ipvsadm -a -t 203.0.113.30:80 -r 192.0.2.31:80 -i
        -e -t 203.0.113.10:80 -r 192.0.2.11:80 -i -w 7
        """;

    [Fact]
    public void One_line_the_director_refuses_changes_nothing()
    {
        var before = Save();
        // Line 4: a real for a service that exists nowhere; only the director's model can tell.
        var (code, _, err) = Adm(Good + "\n-a -t 203.0.113.99:80 -r 192.0.2.99:80 -i\n", "-R");
        Assert.Equal(1, code);
        Assert.Contains("(line 7): no service tcp 203.0.113.99:80", err);
        Assert.Contains("nothing was applied", err);
        Assert.Equal(before, Save());
        Assert.Single(_state.View.Services);
    }

    [Fact]
    public void Every_line_the_parser_refuses_is_listed_and_nothing_is_sent()
    {
        var before = Save();
        var (code, _, err) = Adm("-A -t 203.0.113.40:80 -s lblc\n" + Good + "\n-A -t 203.0.113.41:80 -b flag-1\nsudo rm -rf /tmp/x\n", "-R");
        Assert.Equal(2, code);
        Assert.Contains("line 1: scheduler `lblc': TunLB has no lblc scheduler", err);
        Assert.Contains("line 8: scheduler flag `flag-1' means nothing to TunLB's wlc scheduler", err);
        Assert.Contains("line 9: sudo runs `rm', not ipvsadm", err);
        Assert.Equal(before, Save());
    }

    [Fact]
    public void A_good_file_is_applied_whole_in_one_publish()
    {
        long version = _state.View.Version;
        var (code, _, err) = Adm(Good, "-R");
        Assert.True(code == 0, err);
        Assert.Equal(version + 1, _state.View.Version); // one publish for six changes
        var save = Save();
        Assert.Contains("-A -t 203.0.113.20:443 -s wlc -p 300", save);
        Assert.Contains("-a -t 203.0.113.20:443 -r 192.0.2.22:443 -i -w 5", save);
        Assert.Contains("-A -t 203.0.113.30:80 -s mh -b mh-port", save);
        Assert.Contains("-a -t 203.0.113.10:80 -r 192.0.2.11:80 -i -w 7", save);
        // Restoring what -S printed, after -C, gives the same table back.
        var (code2, _, err2) = Adm("-C\n" + save, "-R");
        Assert.True(code2 == 0, err2);
        Assert.Equal(save, Save());
    }

    [Fact]
    public void Continue_applies_line_by_line_as_ipvsadm()
    {
        var (code, _, err) = Adm("-A -t 203.0.113.50:80\n-a -t 203.0.113.99:80 -r 192.0.2.99:80 -i\n-A -t 203.0.113.51:80\n", "-R", "--continue");
        Assert.Equal(1, code);
        Assert.StartsWith("line 2: no service", err);
        var save = Save();
        Assert.Contains("-A -t 203.0.113.50:80", save);      // applied before the refused line
        Assert.DoesNotContain("203.0.113.51", save);          // ipvsadm stops at the refused line
    }
}
