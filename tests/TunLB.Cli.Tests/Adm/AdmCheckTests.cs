using TunLB.Cli.Adm;
using TunLB.Control.Configuration;
using TunLB.Director.Api;
using TunLB.Director.Management;

namespace TunLB.Cli.Tests.Adm;

/// <summary>TunLB's --check / --no-check against a real director API (DirectorState + ApiServer, no data path).</summary>
public sealed class AdmCheckTests : IAsyncLifetime
{
    private static readonly AdmEnvironment NoEnv = new(_ => null, "/nonexistent/director.toml", null, null);
    private DirectorState _state = null!;
    private ApiServer _api = null!;
    private string Api => _api.BaseAddress;

    public async Task InitializeAsync()
    {
        var cfg = ConfigLoader.ParseDirector("""
            [[service]]
            vip = "203.0.113.10"
            port = 80
            [[service.real]]
            address = "192.0.2.11"
            """, "director.toml");
        _state = new DirectorState(cfg, new DirectorStateOptions { OuterSource = _ => default, HashSeed = 1 });
        _api = await ApiServer.StartAsync(_state, _state.Settings with { ApiPort = 0 });
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private (int Code, string Out, string Err) Run(string line, params string[] extra)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AdmCommand.Run([.. line.Split(' '), .. extra, "--api", Api], o, e, TextReader.Null, NoEnv);
        return (code, o.ToString(), e.ToString());
    }

    private string RealCheck => _state.View.Services[0].Reals[0].Health!.Spec.Describe(80);

    [Fact]
    public void SetsChangesAndRemovesARealsCheck()
    {
        var (code, _, err) = Run("-e -t 203.0.113.10:80 -r 192.0.2.11 --check", "http path=/health interval=2 fall=3");
        Assert.True(code == 0, err);
        Assert.Equal("http GET /health :80 via tunnel, every 2 s, timeout 1 s, rise 2 fall 3", RealCheck);
        Assert.Equal(0, Run("-e -t 203.0.113.10:80 -r 192.0.2.11 -w 4 --check", "tcp port=8080 timeout=0.5").Code);
        Assert.Equal("tcp :8080 via tunnel, every 2 s, timeout 0.5 s, rise 2 fall 2", RealCheck);
        Assert.Equal(4, _state.View.Services[0].Reals[0].ConfiguredWeight);
        Assert.Equal(0, Run("-e -t 203.0.113.10:80 -r 192.0.2.11 --no-check").Code);
        Assert.Equal("none", RealCheck);
        // -e with only --check/--no-check changes only the check (a plain -e would set weight 1).
        Assert.Equal(4, _state.View.Services[0].Reals[0].ConfiguredWeight);
    }

    [Fact]
    public void SetsTheServiceCheckAndAddsARealWithItsOwn()
    {
        Assert.Equal(0, Run("-E -t 203.0.113.10:80 -s rr").Code);
        Assert.Equal(0, Run("-E -t 203.0.113.10:80 --check", "http path=/ok").Code);
        Assert.Equal("rr", _state.View.Services[0].Scheduler); // -E with only --check keeps the scheduler (-E alone sets wlc)
        Assert.StartsWith("http GET /ok", RealCheck);
        Assert.Equal(0, Run("-a -t 203.0.113.10:80 -r 192.0.2.12 --check", "fall=5").Code); // type from the service's check
        Assert.Equal("http GET /ok :80 via tunnel, every 2 s, timeout 1 s, rise 2 fall 5",
            _state.View.Services[0].Reals[1].Health!.Spec.Describe(80));
        Assert.Contains("[service.check]\ntype = \"http\"\npath = \"/ok\"", ConfigRenderer.Render(_state));
        Assert.Contains("fall = 5", ConfigRenderer.Render(_state));
    }

    [Theory]
    [InlineData("htp", "check type")]
    [InlineData("http path=health", "must start with /")]
    [InlineData("http interval=0", "out of range")]
    [InlineData("http intervall=2", "did you mean \"interval\"")]
    [InlineData("http path", "is not key=value")]
    public void BadChecksAreUsageErrorsBeforeAnyRequest(string words, string said)
    {
        var (code, _, err) = Run("-e -t 203.0.113.10:80 -r 192.0.2.11 --check", words);
        Assert.Equal(2, code);
        Assert.Contains(said, err);
        Assert.Equal("none", RealCheck);
    }

    [Theory]
    [InlineData("-L -n --check tcp")]
    [InlineData("-d -t 203.0.113.10:80 -r 192.0.2.11 --no-check")]
    [InlineData("-e -t 203.0.113.10:80 -r 192.0.2.11 --check tcp --no-check")]
    public void CheckGoesWithAddAndEditOnly(string line)
    {
        var (r, e) = AdmParser.Parse(line.Split(' '));
        Assert.Null(r);
        Assert.Equal(2, e!.ExitCode);
        Assert.Contains("check", e.Message);
    }

    [Fact]
    public void CrossKeyRulesOfTheFileApply()
    {
        // The file's rule that a misc check needs a command, through adm.
        var (code, _, err) = Run("-e -t 203.0.113.10:80 -r 192.0.2.11 --check", "misc");
        Assert.NotEqual(0, code);
        Assert.Contains("misc check needs command", err);
    }
}
