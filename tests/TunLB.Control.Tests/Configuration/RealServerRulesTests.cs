using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Tests.Configuration;

public class RealServerRulesTests
{
    private static RealServerCheck Check(RealServerFields f, RealServerFieldNames? names = null) =>
        RealServerRules.Check(f, 80, names ?? RealServerFieldNames.Config);

    [Fact]
    public void Defaults_fill_what_is_not_given()
    {
        var r = Check(new RealServerFields { Address = "192.0.2.11" });
        Assert.True(r.Ok);
        Assert.Empty(r.Errors);
        Assert.Equal(new RealServerSettings(IpAddress.Parse("192.0.2.11"), 80, 1, 0, 0, EncapKind.Ipip, Tunnel.DefaultGuePort, false, 0), r.Value);
    }

    [Fact]
    public void Gue_fields_are_taken()
    {
        var r = Check(new RealServerFields { Address = "2001:db8::11", Port = 8080, Weight = 0, Encap = "gue", GuePort = 7000, GueChecksum = true, Mtu = 1280 });
        Assert.True(r.Ok);
        Assert.Equal((8080, 0, EncapKind.Gue, 7000, true, 1280),
            (r.Value!.Port, r.Value.Weight, r.Value.Encap, r.Value.GuePort, r.Value.GueChecksum, r.Value.Mtu));
    }

    [Fact]
    public void Every_error_is_collected_with_config_names()
    {
        var r = Check(new RealServerFields { Address = "192.0.2.11", Port = 70000, Weight = -1, GueChecksum = true });
        Assert.False(r.Ok);
        Assert.Equal(["port", "weight", "gue_checksum"], r.Errors.Select(e => e.Field));
        Assert.Equal("70000 is out of range; must be 0..65535", r.Errors[0].Message);
        Assert.Equal("-1 is out of range; must be 0..65535", r.Errors[1].Message);
        Assert.Equal("gue_checksum only applies with encap = \"gue\"", r.Errors[2].Message);
        Assert.Null(r.Errors[0].ConflictsWith);
        Assert.Equal("encap", r.Errors[2].ConflictsWith);
        Assert.NotNull(r.Value); // the address is usable: callers may go on checking (duplicates)
    }

    [Fact]
    public void Every_error_is_collected_with_api_names()
    {
        var r = Check(new RealServerFields { Address = "192.0.2.11", Port = 70000, Weight = -1, GueChecksum = true }, RealServerFieldNames.Api);
        Assert.Equal(["port", "weight", "tun_flags"], r.Errors.Select(e => e.Field));
        Assert.Equal("tun_flags only applies with tun_type = \"gue\"", r.Errors[2].Message);
        Assert.Equal("tun_type", r.Errors[2].ConflictsWith);
    }

    [Fact]
    public void Everything_wrong_at_once()
    {
        var r = Check(new RealServerFields
        {
            Address = "224.0.0.1", Port = -1, Weight = 65536, UpperThreshold = -5, LowerThreshold = -5, Mtu = 100,
            Encap = "gre", GuePort = 0, GueChecksum = false,
        });
        Assert.Equal(["address", "port", "weight", "upper_threshold", "lower_threshold", "mtu", "encap", "gue_port"],
            r.Errors.Select(e => e.Field));
        Assert.Null(r.Value);
        Assert.Contains("multicast", r.Errors[0].Message);
        Assert.Contains("unknown encapsulation \"gre\"; known: ipip gue", r.Errors[6].Message);
    }

    [Fact]
    public void A_missing_address_is_reported()
    {
        var e = Assert.Single(Check(new RealServerFields { Weight = 2 }).Errors);
        Assert.Equal(("address", "required key is missing"), (e.Field, e.Message));
    }

    [Fact]
    public void Lower_threshold_above_upper_conflicts()
    {
        var e = Assert.Single(Check(new RealServerFields { Address = "192.0.2.11", UpperThreshold = 10, LowerThreshold = 11 }).Errors);
        Assert.Equal(("lower_threshold", "upper_threshold"), (e.Field, e.ConflictsWith));
        Assert.Equal("lower_threshold 11 is above upper_threshold 10", e.Message);
        Assert.True(Check(new RealServerFields { Address = "192.0.2.11", LowerThreshold = 11 }).Ok); // upper 0: none
    }

    [Theory]
    [InlineData("192.0.2.11", 575, false)]
    [InlineData("192.0.2.11", 576, true)]
    [InlineData("2001:db8::11", 1279, false)]
    [InlineData("2001:db8::11", 1280, true)]
    [InlineData("2001:db8::11", 0, true)]
    public void Mtu_minimum_follows_the_family(string address, int mtu, bool ok) =>
        Assert.Equal(ok, Check(new RealServerFields { Address = address, Mtu = mtu }).Ok);

    [Fact]
    public void Field_names_are_the_config_keys_in_file_order() =>
        Assert.Equal(["address", "port", "weight", "upper_threshold", "lower_threshold", "mtu", "encap", "gue_port", "gue_checksum", "site", "provider"],
            RealServerFieldNames.Config.All);
}
