using TunLB.Cli.Adm;
using TunLB.Control.Api;
using static TunLB.Cli.Tests.Adm.AdmSamples;

namespace TunLB.Cli.Tests.Adm;

/// <summary>`tunlb adm -L -n --cluster ...`: the command line, and two stub directors plus one that does not answer.</summary>
public class AdmClusterCommandTests : IDisposable
{
    private readonly StubApi _a = new();
    private readonly StubApi _b = new();
    private static readonly AdmEnvironment NoEnv = new(_ => null, "/nonexistent/director.toml", null, null);

    public void Dispose() { _a.Dispose(); _b.Dispose(); }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = AdmCommand.Run(args, o, e, new StringReader(""), NoEnv);
        return (code, o.ToString(), e.ToString());
    }

    private void Serve(StubApi api, params ServiceDto[] services)
    {
        api.Answer("GET", "/api/v1/services", 200, services);
        api.Answer("GET", "/api/v1/director", 200, new DirectorStatusDto(true, 100, false, ["203.0.113.10"], new Dictionary<string, string>()));
        api.Answer("GET", "/api/v1/config.toml", 200, "[[service]]\nvip = \"203.0.113.10\"\n");
    }

    [Fact]
    public void ListsEveryDirectorAndNamesTheOneThatDoesNotAnswer()
    {
        Serve(_a, Web);
        Serve(_b, Web with { Reals = [Web.Reals[0] with { Weight = 9 }, Web.Reals[1], Web.Reals[2]] });
        int closed = StubApi.FreePort();
        var (code, stdout, stderr) = Run("-L", "-n", "--cluster", $"{_a.Api},http://{_b.Api}/,127.0.0.1:{closed}", "--token", "tok");
        Assert.True(code == 0, stderr);
        Assert.Contains("TunLB fleet view: 3 directors", stdout);
        Assert.Contains($"127.0.0.1:{closed}", stdout);
        Assert.Contains("UNREACHABLE", stdout);
        Assert.Contains($"TCP 203.0.113.10:80 -> 192.0.2.13:80: weight: 3 on {_a.Api}; 9 on {_b.Api}", stdout);
        Assert.All(_a.Calls.Concat(_b.Calls), c => Assert.Equal("Bearer tok", c.Authorization));
        Assert.Equal(["/api/v1/config.toml", "/api/v1/director", "/api/v1/services"], _a.Calls.Select(c => c.Path).Order());
    }

    [Fact]
    public void RepeatedApiIsAFleetViewAndOneApiIsNot()
    {
        Serve(_a, Web);
        Serve(_b, Web);
        var (code, stdout, _) = Run("-L", "-n", "--api", _a.Api, "--api", _b.Api);
        Assert.Equal(0, code);
        Assert.Contains("The directors agree.", stdout);
        Assert.Null(AdmCluster.Extract(["-L", "-n", "--api", _a.Api], out var error));
        Assert.Null(error);
    }

    [Fact]
    public void NoDirectorAnsweringExitsOne()
    {
        var (code, stdout, _) = Run("-L", "-n", "--cluster", $"127.0.0.1:{StubApi.FreePort()}");
        Assert.Equal(1, code);
        Assert.Contains("UNREACHABLE", stdout);
    }

    [Fact]
    public void OnlyListingWorksAcrossTheFleet()
    {
        var (code, _, stderr) = Run("-a", "-t", "203.0.113.10:80", "-r", "192.0.2.11", "--cluster", _a.Api);
        Assert.Equal(2, code);
        Assert.Contains("works with -L", stderr);
        Assert.Empty(_a.Calls);
    }

    [Fact]
    public void TheClientConfigNamesTheDirectorsAndTheToken()
    {
        Serve(_a, Web);
        var file = Path.Combine(Path.GetTempPath(), $"tunlb-adm-{Guid.NewGuid():N}.toml");
        File.WriteAllText(file, $"[cluster]\ndirectors = [\"{_a.Api}\"]\ntoken = \"from-file\"\n");
        try
        {
            var (code, stdout, stderr) = Run("-L", "-n", "--cluster", file);
            Assert.True(code == 0, stderr);
            Assert.Contains("TunLB fleet view: 1 directors", stdout);
            Assert.All(_a.Calls, c => Assert.Equal("Bearer from-file", c.Authorization));
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void ABadClientConfigIsAUsageError()
    {
        var file = Path.Combine(Path.GetTempPath(), $"tunlb-adm-{Guid.NewGuid():N}.toml");
        File.WriteAllText(file, "[cluster]\ndirectors = []\n");
        try
        {
            var (code, _, stderr) = Run("-L", "--cluster", file);
            Assert.Equal(2, code);
            Assert.Contains("expected [cluster] directors", stderr);
        }
        finally { File.Delete(file); }
    }
}
