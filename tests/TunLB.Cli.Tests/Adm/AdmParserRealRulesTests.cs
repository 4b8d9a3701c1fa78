using TunLB.Cli.Adm;

namespace TunLB.Cli.Tests.Adm;

/// <summary>-a and -e check the real server by TunLB's rules (RealServerRules), with ipvsadm's texts for bad values.</summary>
public class AdmParserRealRulesTests
{
    [Theory]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -x 10 -y 20", "lower_threshold 20 is above upper_threshold 10")]
    [InlineData("-e -t 1.2.3.4:80 -r 0.0.0.0", "illegal real server address[:port] specified")]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -w 99999999999", "illegal weight specified")]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -y 2147483648", "illegal l_threshold specified")]
    [InlineData("-e -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue --tun-port 70000", "illegal tunnel port specified")]
    public void Bad_reals_are_refused(string line, string message)
    {
        var (r, e) = AdmParser.Parse(line.Split(' '));
        Assert.Null(r);
        Assert.Equal(message, e!.Message);
        Assert.Equal(2, e.ExitCode);
    }

    [Fact]
    public void Good_real_keeps_what_was_given()
    {
        var (r, e) = AdmParser.Parse("-a -t 1.2.3.4:80 -r 10.0.0.1 -w 65535 -x 10 -y 10 --tun-type gue --tun-port 65535".Split(' '));
        Assert.Null(e);
        Assert.Equal((65535, 10, 10, "gue", 65535), (r!.Weight, r.UpperThreshold, r.LowerThreshold, r.TunType, r.TunPort));
        // -d names a real server; its options are not checked as a new one
        Assert.Null(AdmParser.Parse("-d -t 1.2.3.4:80 -r 0.0.0.0".Split(' ')).Error);
    }
}
