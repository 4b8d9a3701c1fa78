using TunLB.Cli.Adm;

namespace TunLB.Cli.Tests.Adm;

public sealed class AdmDrainTests
{
    [Theory]
    [InlineData("-e -t 203.0.113.10:80 -r 192.0.2.11 --drain", AdmCommandKind.EditServer, true)]
    [InlineData("-e -t 203.0.113.10:80 -r 192.0.2.11 --undrain", AdmCommandKind.EditServer, false)]
    [InlineData("-d -t 203.0.113.10:80 -r 192.0.2.11 --drain", AdmCommandKind.DeleteServer, true)]
    [InlineData("-e -t 203.0.113.10:80 -r 192.0.2.11 -w 3", AdmCommandKind.EditServer, null)]
    public void DrainOptions(string line, AdmCommandKind kind, bool? drain)
    {
        var (r, e) = AdmParser.Parse(line.Split(' '));
        Assert.Null(e);
        Assert.Equal(kind, r!.Command);
        Assert.Equal(drain, r.Drain);
    }

    [Theory]
    [InlineData("-a -t 203.0.113.10:80 -r 192.0.2.11 --drain")]
    [InlineData("-d -t 203.0.113.10:80 -r 192.0.2.11 --undrain")]
    [InlineData("-L -n --drain")]
    [InlineData("-e -t 203.0.113.10:80 -r 192.0.2.11 --drain --undrain")]
    public void DrainElsewhereIsAUsageError(string line)
    {
        var (r, e) = AdmParser.Parse(line.Split(' '));
        Assert.Null(r);
        Assert.Equal(2, e!.ExitCode);
        Assert.Contains("drain", e.Message);
    }
}
