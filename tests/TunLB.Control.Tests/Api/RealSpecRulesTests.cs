using TunLB.Control.Api;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Tests.Api;

public class RealSpecRulesTests
{
    [Fact]
    public void Bad_port_weight_and_flags_on_ipip_are_three_errors()
    {
        var r = RealSpecRules.Check(new RealSpec("192.0.2.50", Port: 70000, Weight: -1, TunType: "ipip", TunFlags: "csum"), 80);
        Assert.Equal(["port", "weight", "tun_flags"], r.Errors.Select(e => e.Field));
        Assert.False(r.Ok);
    }

    public static TheoryData<RealSpec, string> BadSpecs => new()
    {
        { new RealSpec(null), "address" },
        { new RealSpec("192.0.2"), "address" },
        { new RealSpec("ff02::1"), "address" },
        { new RealSpec("192.0.2.50", 70000), "port" },
        { new RealSpec("192.0.2.50", Weight: 65536), "weight" },
        { new RealSpec("192.0.2.50", UpperThreshold: -1), "upper_threshold" },
        { new RealSpec("192.0.2.50", UpperThreshold: 10, LowerThreshold: 11), "lower_threshold" },
        { new RealSpec("192.0.2.50", TunType: "gre"), "tun_type" },
        { new RealSpec("192.0.2.50", TunType: "gue", TunPort: 70000), "tun_port" },
        { new RealSpec("192.0.2.50", TunType: "gue", TunFlags: "remcsum"), "tun_flags" },
        { new RealSpec("192.0.2.50", TunPort: 6080), "tun_port" },
    };

    [Theory, MemberData(nameof(BadSpecs))]
    public void One_bad_field_is_one_error_naming_it(RealSpec spec, string field) =>
        Assert.Equal(field, Assert.Single(RealSpecRules.Check(spec, 80).Errors).Field);

    [Fact]
    public void Zero_port_and_empty_flags_mean_not_given()
    {
        var r = RealSpecRules.Check(new RealSpec("192.0.2.50", TunType: "ipip", TunPort: 0, TunFlags: ""), 443);
        Assert.True(r.Ok);
        Assert.Equal((443, EncapKind.Ipip), (r.Value!.Port, r.Value.Encap));
        var gue = RealSpecRules.Check(new RealSpec("192.0.2.50", TunType: "gue", TunFlags: "csum"), 443).Value!;
        Assert.Equal((EncapKind.Gue, Tunnel.DefaultGuePort, true), (gue.Encap, gue.GuePort, gue.GueChecksum));
        Assert.Equal("csum", RealSpecRules.Flags(gue));
    }

    [Fact]
    public void An_edit_keeps_what_it_leaves_out()
    {
        var current = new RealServerSettings(IpAddress.Parse("192.0.2.50"), 80, 3, 10, 5, EncapKind.Gue, 7000, true, 0);
        var r = RealSpecRules.CheckEdit(new RealSpec(Weight: 4), current);
        Assert.True(r.Ok);
        Assert.Equal(current with { Weight = 4 }, r.Value);
        Assert.Equal(current with { GuePort = 7001 }, RealSpecRules.CheckEdit(new RealSpec(TunPort: 7001), current).Value);
        Assert.Equal(current with { Encap = EncapKind.Ipip, GuePort = Tunnel.DefaultGuePort, GueChecksum = false },
            RealSpecRules.CheckEdit(new RealSpec(TunType: "ipip"), current).Value);
        var bad = RealSpecRules.CheckEdit(new RealSpec(LowerThreshold: 11), current);
        Assert.Equal("lower_threshold", Assert.Single(bad.Errors).Field);
    }
}
