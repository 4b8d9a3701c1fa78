using TunLB.Control.Api;

namespace TunLB.Cli.Tests.Adm;

/// <summary>
/// A sample table and the text ipvsadm 1.31 prints for it. The expected strings were rendered from
/// ipvsadm.c's printf formats (print_title, print_service_entry, print_largenum, print_conn,
/// print_tunnel_rule) independently of AdmFormatter; see AdmFormatterTests for which format is which.
/// </summary>
internal static class AdmSamples
{
    private static readonly RatesDto NoRates = new(0, 0, 0, 0, 0);
    private static readonly StatsDto NoStats = new(0, 0, 0, 0, 0);

    public static RealDto Real(string addr, int port, int weight, int act = 0, int inact = 0, int persist = 0,
        int x = 0, int y = 0, string tunType = "ipip", int tunPort = 0, string tunFlags = "",
        StatsDto? stats = null, RatesDto? rates = null) =>
        new(addr, port, weight, x, y, "tunnel", tunType, tunPort, tunFlags, act, inact, persist, stats ?? NoStats, rates ?? NoRates);

    /// <summary>The sample service with three reals (listed by the API out of order).</summary>
    public static ServiceDto Web => new(
        "tcp", "203.0.113.10", 80, "rr", [], 0, "255.255.255.255", 0,
        new StatsDto(123_456_789, 5_000_000_000, 42, 250_000_000_000_000, 150_000_000_000),
        new RatesDto(1234.4, 20000.5, 0, 987_654_321.0, 12.2),
        [
            Real("192.0.2.13", 80, 3, act: 0, inact: 1, stats: new StatsDto(7, 700, 0, 70_000, 0), rates: new RatesDto(0.2, 3, 0, 1500, 0)),
            Real("192.0.2.11", 80, 1, act: 12, inact: 3, persist: 2, x: 1000, y: 800,
                stats: new StatsDto(100_000_000, 999_999_999, 1_000_000_000, 12_345_678_901, 99_999_999_999_999),
                rates: new RatesDto(10, 200, 0, 300_000_000, 0)),
            Real("192.0.2.12", 80, 2, act: 5, inact: 0, persist: 1, tunType: "gue", tunPort: 6080, tunFlags: "csum",
                stats: new StatsDto(1, 2, 3, 4, 5)),
        ]);

    public static ServiceDto Https => new(
        "tcp", "203.0.113.10", 443, "sh", ["sh-port", "sh-fallback"], 600, "255.255.255.0", 0, NoStats, NoRates,
        [Real("192.0.2.21", 443, 5)]);

    public static ServiceDto Dns6 => new(
        "udp", "2001:db8::10", 53, "mh", ["mh-port"], 300, "64", 65537, NoStats, NoRates,
        [Real("2001:db8::21", 53, 1)]);

    /// <summary>In API order (deliberately not ipvsadm's order).</summary>
    public static IReadOnlyList<ServiceDto> Table => [Dns6, Https, Web];

    public static IReadOnlyList<ConnectionDto> Connections =>
    [
        new("tcp", "198.51.100.7", 53412, "203.0.113.10", 80, "192.0.2.11", 80, "ESTABLISHED", 899.7, false),
        new("tcp", "198.51.100.8", 40000, "203.0.113.10", 80, "192.0.2.12", 80, "FIN_WAIT", 61.0, false),
        new("tcp", "198.51.100.0", 0, "203.0.113.10", 443, "192.0.2.21", 443, "NONE", 6000, true),
        new("udp", "2001:db8::99", 5353, "2001:db8::10", 53, "2001:db8::21", 53, "UDP", 5.2, false),
    ];

    public const string List =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port Scheduler Flags\n" +
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n" +
            "TCP  203.0.113.10:80 rr\n" +
            "  -> 192.0.2.11:80                Tunnel  1      12         3         \n" +
            "  -> 192.0.2.12:80                Tunnel  2      5          0         \n" +
            "  -> 192.0.2.13:80                Tunnel  3      0          1         \n" +
            "TCP  203.0.113.10:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n" +
            "  -> 192.0.2.21:443               Tunnel  5      0          0         \n" +
            "UDP  [2001:db8::10]:53 mh (mh-port) persistent 300 mask 64\n" +
            "  -> [2001:db8::21]:53            Tunnel  1      0          0         \n";

    public const string Stats =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  203.0.113.10:80               123456K    5000M       42     250T     150G\n" +
            "  -> 192.0.2.11:80                 100000K  999999K    1000M   12345M   99999G\n" +
            "  -> 192.0.2.12:80                       1        2        3        4        5\n" +
            "  -> 192.0.2.13:80                       7      700        0    70000        0\n" +
            "TCP  203.0.113.10:443                    0        0        0        0        0\n" +
            "  -> 192.0.2.21:443                      0        0        0        0        0\n" +
            "UDP  [2001:db8::10]:53                   0        0        0        0        0\n" +
            "  -> [2001:db8::21]:53                   0        0        0        0        0\n";

    public const string StatsExact =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  203.0.113.10:80              123456789 5000000000       42 250000000000000 150000000000\n" +
            "  -> 192.0.2.11:80                100000000 999999999 1000000000 12345678901 99999999999999\n" +
            "  -> 192.0.2.12:80                       1        2        3        4        5\n" +
            "  -> 192.0.2.13:80                       7      700        0    70000        0\n" +
            "TCP  203.0.113.10:443                    0        0        0        0        0\n" +
            "  -> 192.0.2.21:443                      0        0        0        0        0\n" +
            "UDP  [2001:db8::10]:53                   0        0        0        0        0\n" +
            "  -> [2001:db8::21]:53                   0        0        0        0        0\n";

    public const string Rate =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  203.0.113.10:80                  1234    20001        0  987654K       12\n" +
            "  -> 192.0.2.11:80                      10      200        0  300000K        0\n" +
            "  -> 192.0.2.12:80                       0        0        0        0        0\n" +
            "  -> 192.0.2.13:80                       0        3        0     1500        0\n" +
            "TCP  203.0.113.10:443                    0        0        0        0        0\n" +
            "  -> 192.0.2.21:443                      0        0        0        0        0\n" +
            "UDP  [2001:db8::10]:53                   0        0        0        0        0\n" +
            "  -> [2001:db8::21]:53                   0        0        0        0        0\n";

    public const string Thresholds =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  203.0.113.10:80 rr\n" +
            "  -> 192.0.2.11:80                1000       800        12         3         \n" +
            "  -> 192.0.2.12:80                0          0          5          0         \n" +
            "  -> 192.0.2.13:80                0          0          0          1         \n" +
            "TCP  203.0.113.10:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n" +
            "  -> 192.0.2.21:443               0          0          0          0         \n" +
            "UDP  [2001:db8::10]:53 mh (mh-port) persistent 300 mask 64\n" +
            "  -> [2001:db8::21]:53            0          0          0          0         \n";

    public const string PersistentConn =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n" +
            "  -> RemoteAddress:Port\n" +
            "TCP  203.0.113.10:80 rr\n" +
            "  -> 192.0.2.11:80                1         2           12         3         \n" +
            "  -> 192.0.2.12:80                2         1           5          0         \n" +
            "  -> 192.0.2.13:80                3         0           0          1         \n" +
            "TCP  203.0.113.10:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n" +
            "  -> 192.0.2.21:443               5         0           0          0         \n" +
            "UDP  [2001:db8::10]:53 mh (mh-port) persistent 300 mask 64\n" +
            "  -> [2001:db8::21]:53            1         0           0          0         \n";

    public const string TunInfo =
            "IP Virtual Server version 1.2.1 (size=4096)\n" +
            "Prot LocalAddress:Port Scheduler Flags\n" +
            "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n" +
            "TCP  203.0.113.10:80 rr\n" +
            "  -> 192.0.2.11:80                Tunnel  ipip          1      12         3         \n" +
            "  -> 192.0.2.12:80                Tunnel  gue:6080:+c   2      5          0         \n" +
            "  -> 192.0.2.13:80                Tunnel  ipip          3      0          1         \n" +
            "TCP  203.0.113.10:443 sh (sh-fallback,sh-port) persistent 600 mask 255.255.255.0\n" +
            "  -> 192.0.2.21:443               Tunnel  ipip          5      0          0         \n" +
            "UDP  [2001:db8::10]:53 mh (mh-port) persistent 300 mask 64\n" +
            "  -> [2001:db8::21]:53            Tunnel  ipip          1      0          0         \n";

    public const string Save =
            "-A -t 203.0.113.10:80 -s rr\n" +
            "-a -t 203.0.113.10:80 -r 192.0.2.11:80 -i -w 1 --tun-type ipip -x 1000 -y 800\n" +
            "-a -t 203.0.113.10:80 -r 192.0.2.12:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum\n" +
            "-a -t 203.0.113.10:80 -r 192.0.2.13:80 -i -w 3 --tun-type ipip\n" +
            "-A -t 203.0.113.10:443 -s sh -p 600 -M 255.255.255.0 -b sh-fallback,sh-port\n" +
            "-a -t 203.0.113.10:443 -r 192.0.2.21:443 -i -w 5 --tun-type ipip\n" +
            "-A -u [2001:db8::10]:53 -s mh -p 300 -M 64 -b mh-port\n" +
            "-a -u [2001:db8::10]:53 -r [2001:db8::21]:53 -i -w 1 --tun-type ipip\n";

    public const string Conns =
            "IPVS connection entries\n" +
            "pro expire state       source             virtual            destination\n" +
            "TCP 14:59  ESTABLISHED 198.51.100.7:53412 203.0.113.10:80    192.0.2.11:80\n" +
            "TCP 01:01  FIN_WAIT    198.51.100.8:40000 203.0.113.10:80    192.0.2.12:80\n" +
            "TCP 100:00 NONE        198.51.100.0:0     203.0.113.10:443   192.0.2.21:443\n" +
            "UDP 00:05  UDP         [2001:db8::99]:5353 [2001:db8::10]:53  [2001:db8::21]:53\n";

}
