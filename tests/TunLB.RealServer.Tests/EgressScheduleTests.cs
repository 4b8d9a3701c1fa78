using TunLB.Control.Configuration;
using TunLB.RealServer;

namespace TunLB.RealServer.Tests;

/// <summary>The agent's egress schedule is off unless [egress] sets an interval.</summary>
public class EgressScheduleTests
{
    private const string Rs = """
        [realserver]
        vips = ["203.0.113.10"]
        directors = ["192.0.2.1"]
        """;

    [Fact]
    public void Off_without_the_table_or_the_interval()
    {
        Assert.Null(EgressSchedule.StartIfEnabled(ConfigLoader.ParseRealServer(Rs, "rs.toml"), TextWriter.Null));
        var noInterval = ConfigLoader.ParseRealServer(Rs + "\n[egress]\ntarget = \"198.51.100.10\"\ndirector = \"http://192.0.2.1:9400\"\n", "rs.toml");
        Assert.NotNull(noInterval.Egress);
        Assert.Null(EgressSchedule.StartIfEnabled(noInterval, TextWriter.Null));
    }

    [Fact]
    public void On_with_an_interval_and_described()
    {
        var cfg = ConfigLoader.ParseRealServer(Rs + "\n[egress]\ninterval = 600\ntarget = \"198.51.100.10\"\ndirector = \"http://192.0.2.1:9400\"\n", "rs.toml");
        // A first delay far beyond the test: nothing is probed.
        using var s = EgressSchedule.StartIfEnabled(cfg, TextWriter.Null, TimeSpan.FromHours(1));
        Assert.NotNull(s);
        Assert.Equal("egress check every 600 s toward 198.51.100.10, results to http://192.0.2.1:9400", s!.Describe());
        Assert.Equal(0, s.Posted);
    }
}
