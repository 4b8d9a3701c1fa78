using TunLB.Control.Configuration;
using static TunLB.Control.Tests.Configuration.ConfigLoaderDirectorTests;

namespace TunLB.Control.Tests.Configuration;

/// <summary>[director] workers: the number of data-path workers (TUN queues).</summary>
public class ConfigLoaderWorkersTests
{
    private const string Service = "[[service]]\nvip = \"203.0.113.10\"\nport = 80\n";

    private static DirectorSettings Load(string director) =>
        ConfigLoader.ParseDirector("[director]\n" + director + "\n" + Service, "director.toml").Director;

    [Fact]
    public void Default_is_one_worker()
    {
        var d = Load("");
        Assert.Equal(1, d.Workers);
        Assert.Equal(1, d.EffectiveWorkers);
    }

    [Theory]
    [InlineData("workers = 1", 1)]
    [InlineData("workers = 2", 2)]
    [InlineData("workers = 64", 64)]
    public void Explicit_count(string line, int expected)
    {
        var d = Load(line);
        Assert.Equal(expected, d.Workers);
        Assert.Equal(expected, d.EffectiveWorkers);
    }

    [Fact]
    public void Auto_is_the_processor_count()
    {
        var d = Load("workers = \"auto\"");
        Assert.Equal(0, d.Workers);
        Assert.Equal(Math.Clamp(Environment.ProcessorCount, 1, 64), d.EffectiveWorkers);
    }

    [Theory]
    [InlineData("workers = 0", "0 is out of range; must be 1..64")]
    [InlineData("workers = 65", "65 is out of range; must be 1..64")]
    [InlineData("workers = \"many\"", "expected an integer 1..64 or \"auto\", got \"many\"")]
    [InlineData("workers = true", "expected an integer 1..64 or \"auto\"")]
    public void Bad_values_name_file_line_and_key(string line, string message)
    {
        var e = Single("[director]\nttl = 64\n" + line + "\n" + Service);
        Assert.Equal(("director.toml", 3, "director.workers"), (e.File, e.Line, e.Key));
        Assert.Contains(message, e.Message);
    }
}
