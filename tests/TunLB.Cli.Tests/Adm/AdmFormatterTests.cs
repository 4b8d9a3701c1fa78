using TunLB.Cli.Adm;
using TunLB.Control.Api;

namespace TunLB.Cli.Tests.Adm;

// Golden outputs. The formats matched, restated from ipvsadm 1.31's ipvsadm.c:
//  - version line: "IP Virtual Server version %d.%d.%d (size=%d)" (list_all)
//  - default title: "Prot LocalAddress:Port Scheduler Flags" / "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"
//  - service name: protocol left-aligned in 4 columns, a space, then address:port; then " scheduler",
//    " (flags)", " persistent N", " mask M" (mask only when it isn't the whole address)
//  - real line: "  -> " + address:port left-aligned in 28, forward method in 7, weight in 6, active and
//    inactive connections left-aligned in 10 each (so lines end in spaces)
//  - stats/rate titles: "Prot LocalAddress:Port" in 33 then five 8-wide right-aligned headers;
//    numbers through print_largenum: 9 wide below 10^8, else 8 wide + K/M/G/T; --exact: one wider than the number
//  - rate real line: cps, in/out pps as " %8llu" each, byte rates through print_largenum
//  - thresholds: 33-wide title then four 10-wide left-aligned headers; persistent-conn: 9, 11, 10, 10
//  - tun-info: a TunnelInfo column 13 wide ("ipip", "gue:PORT:+c", ...)
//  - -c: "pro expire %-11s %-18s %-18s %s" header, rows "%-3s %-6s %-11s %-18s %-18s %s", expire mm:ss
//  - timeouts: "Timeout (tcp tcpfin udp): %d %d %d"
public class AdmFormatterTests
{
    [Fact]
    public void List_numeric_matches_ipvsadm() =>
        Assert.Equal(AdmSamples.List, AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.Numeric));

    [Fact]
    public void Stats_switch_to_K_M_G_T() =>
        Assert.Equal(AdmSamples.Stats, AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.Numeric | AdmListFormat.Stats));

    [Fact]
    public void Stats_exact_prints_whole_numbers() =>
        Assert.Equal(AdmSamples.StatsExact,
            AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.Numeric | AdmListFormat.Stats | AdmListFormat.Exact));

    [Fact]
    public void Rate_matches_ipvsadm() =>
        Assert.Equal(AdmSamples.Rate, AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.Rate));

    [Fact]
    public void Thresholds_matches_ipvsadm() =>
        Assert.Equal(AdmSamples.Thresholds, AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.Thresholds));

    [Fact]
    public void PersistentConn_matches_ipvsadm() =>
        Assert.Equal(AdmSamples.PersistentConn, AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.PersistentConn));

    [Fact]
    public void TunInfo_matches_ipvsadm() =>
        Assert.Equal(AdmSamples.TunInfo, AdmFormatter.ListAll(4096, AdmSamples.Table, AdmListFormat.TunInfo));

    [Fact]
    public void Connections_match_ipvsadm() =>
        Assert.Equal(AdmSamples.Conns, AdmFormatter.Connections(AdmSamples.Connections, AdmListFormat.Numeric));

    [Fact]
    public void Connections_persistent_conn_header_has_pe_columns()
    {
        var text = AdmFormatter.Connections([], AdmListFormat.PersistentConn);
        Assert.Equal(
            "IPVS connection entries\n" +
            "pro expire state       source             virtual            destination        pe name          pe_data\n",
            text);
    }

    [Fact]
    public void Timeouts_line() =>
        Assert.Equal("Timeout (tcp tcpfin udp): 900 120 300\n", AdmFormatter.Timeouts(new TimeoutsDto(900, 120, 300)));

    [Fact]
    public void List_one_service_has_no_version_line()
    {
        var text = AdmFormatter.ListOne(AdmSamples.Https, AdmListFormat.Numeric);
        Assert.Equal(
            "Prot LocalAddress:Port Scheduler Flags\n" +
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
            "TCP  203.0.113.10:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n" +
            "  -> 192.0.2.21:443               Tunnel  5      0          0         \n",
            text);
    }

    [Fact]
    public void Nosort_keeps_the_api_order()
    {
        var text = AdmFormatter.ListAll(1, AdmSamples.Table, AdmListFormat.NoSort);
        var lines = text.Split('\n');
        Assert.StartsWith("UDP  [2001:db8::10]:53", lines[3]);
        Assert.Contains(lines, l => l.StartsWith("TCP  203.0.113.10:80 rr", StringComparison.Ordinal));
        int i = Array.FindIndex(lines, l => l.StartsWith("TCP  203.0.113.10:80 ", StringComparison.Ordinal));
        Assert.StartsWith("  -> 192.0.2.13:80", lines[i + 1]);
    }

    [Fact]
    public void Empty_table()
    {
        Assert.Equal(
            "IP Virtual Server version 1.2.1 (size=1048576)\n" +
            "Prot LocalAddress:Port Scheduler Flags\n" +
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
            AdmFormatter.ListAll(1048576, [], AdmListFormat.Numeric));
    }

    [Theory]
    [InlineData(0UL, false, "        0")]
    [InlineData(99_999_999UL, false, " 99999999")]
    [InlineData(100_000_000UL, false, "  100000K")]
    [InlineData(999_999_999UL, false, "  999999K")]
    [InlineData(1_000_000_000UL, false, "    1000M")]
    [InlineData(99_999_999_999UL, false, "   99999M")]
    [InlineData(100_000_000_000UL, false, "     100G")]
    [InlineData(99_999_999_999_999UL, false, "   99999G")]
    [InlineData(100_000_000_000_000UL, false, "     100T")]
    [InlineData(12UL, true, "       12")]
    [InlineData(12_345_678UL, true, " 12345678")]
    [InlineData(123_456_789UL, true, " 123456789")]
    [InlineData(12_345_678_901UL, true, " 12345678901")]
    public void Largenum(ulong value, bool exact, string expected) =>
        Assert.Equal(expected, AdmFormatter.LargeNum(value, exact));

    [Theory]
    [InlineData("255.255.255.255", false, null)]
    [InlineData("32", false, null)]
    [InlineData("255.255.255.0", false, "255.255.255.0")]
    [InlineData("24", false, "255.255.255.0")]
    [InlineData("128", true, null)]
    [InlineData("64", true, "64")]
    public void Persistence_mask(string mask, bool v6, string? expected) =>
        Assert.Equal(expected, AdmFormatter.MaskText(mask, v6));

    [Fact]
    public void Ipv6_real_in_ipv4_service_is_bracketed()
    {
        var svc = AdmSamples.Web with { Reals = [AdmSamples.Real("2001:db8::5", 80, 1)] };
        var text = AdmFormatter.ListOne(svc, AdmListFormat.Numeric);
        Assert.Contains("  -> [2001:db8::5]:80             Tunnel  1      0          0         \n", text);
    }
}
