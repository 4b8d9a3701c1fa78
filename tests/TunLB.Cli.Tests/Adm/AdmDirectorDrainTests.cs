using TunLB.Cli.Adm;
using TunLB.Control.Api;

namespace TunLB.Cli.Tests.Adm;

/// <summary>TunLB's <c>--drain-director</c> / <c>--undrain-director</c> (not in ipvsadm): POST/DELETE /api/v1/director/drain.</summary>
public sealed class AdmDirectorDrainTests : IDisposable
{
    private readonly StubApi _api = new();
    private static readonly AdmEnvironment NoEnv = new(_ => null, "/nonexistent/director.toml", null, null);

    public void Dispose() => _api.Dispose();

    [Theory]
    [InlineData("--drain-director", AdmCommandKind.DrainDirector)]
    [InlineData("--undrain-director", AdmCommandKind.UndrainDirector)]
    public void Parses_as_its_own_command(string line, AdmCommandKind kind) =>
        Assert.Equal(kind, AdmParser.Parse(line.Split(' ')).Request!.Command);

    [Theory]
    [InlineData("--drain-director -t 203.0.113.10:80")]
    [InlineData("--drain-director --undrain-director")]
    [InlineData("-L --drain-director")]
    public void Takes_no_service_and_no_other_command(string line)
    {
        var (r, e) = AdmParser.Parse(line.Split(' '));
        Assert.Null(r);
        Assert.Equal(2, e!.ExitCode);
    }

    [Theory]
    [InlineData("--drain-director", "POST", true, "director drained: every VIP leaves table 100")]
    [InlineData("--undrain-director", "DELETE", false, "director undrained")]
    public void Calls_the_api_and_says_what_happened(string option, string method, bool drained, string said)
    {
        _api.Answer(method, "/api/v1/director/drain", 200, new DirectorStatusDto(true, 100, drained, [], new Dictionary<string, string>()));
        _api.Answer("GET", "/api/v1/director", 200, new DirectorStatusDto(true, 100, drained, [], new Dictionary<string, string>()));
        var o = new StringWriter();
        var e = new StringWriter();
        Assert.Equal(0, AdmCommand.Run([option, "--api", _api.Api], o, e, TextReader.Null, NoEnv));
        Assert.Contains(said, o.ToString());
        Assert.Contains(_api.Calls, c => c.Method == method && c.Path == "/api/v1/director/drain");
    }
}
