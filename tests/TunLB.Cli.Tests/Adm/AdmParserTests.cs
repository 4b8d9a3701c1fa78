using System.Net;
using TunLB.Cli.Adm;

namespace TunLB.Cli.Tests.Adm;

public class AdmParserTests
{
    private static AdmRequest Ok(string line)
    {
        var (r, e) = AdmParser.Parse(Split(line));
        Assert.True(e is null, $"unexpected error: {e?.Message}");
        return r!;
    }

    private static AdmParseError Bad(string line)
    {
        var (r, e) = AdmParser.Parse(Split(line));
        Assert.True(r is null, $"expected an error for: {line}");
        return e!;
    }

    private static string[] Split(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void No_arguments_lists() => Assert.Equal(AdmCommandKind.List, AdmParser.Parse([]).Request!.Command);

    [Theory]
    [InlineData("-A -t 1.2.3.4:80", AdmCommandKind.AddService)]
    [InlineData("--add-service --tcp-service 1.2.3.4:80", AdmCommandKind.AddService)]
    [InlineData("-E -t 1.2.3.4:80", AdmCommandKind.EditService)]
    [InlineData("--edit-service -t 1.2.3.4:80", AdmCommandKind.EditService)]
    [InlineData("-D -t 1.2.3.4:80", AdmCommandKind.DeleteService)]
    [InlineData("--delete-service -u 1.2.3.4:53", AdmCommandKind.DeleteService)]
    [InlineData("-C", AdmCommandKind.Clear)]
    [InlineData("--clear", AdmCommandKind.Clear)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1", AdmCommandKind.AddServer)]
    [InlineData("--add-server -t 1.2.3.4:80 --real-server 10.0.0.1", AdmCommandKind.AddServer)]
    [InlineData("-e -t 1.2.3.4:80 -r 10.0.0.1", AdmCommandKind.EditServer)]
    [InlineData("--edit-server -t 1.2.3.4:80 -r 10.0.0.1", AdmCommandKind.EditServer)]
    [InlineData("-d -t 1.2.3.4:80 -r 10.0.0.1", AdmCommandKind.DeleteServer)]
    [InlineData("--delete-server -t 1.2.3.4:80 -r 10.0.0.1", AdmCommandKind.DeleteServer)]
    [InlineData("-L", AdmCommandKind.List)]
    [InlineData("-l", AdmCommandKind.List)]
    [InlineData("--list", AdmCommandKind.List)]
    [InlineData("-Ln", AdmCommandKind.List)]
    [InlineData("-Z", AdmCommandKind.Zero)]
    [InlineData("--zero -t 1.2.3.4:80", AdmCommandKind.Zero)]
    [InlineData("--set 900 120 300", AdmCommandKind.SetTimeouts)]
    [InlineData("-S", AdmCommandKind.Save)]
    [InlineData("--save -n", AdmCommandKind.Save)]
    [InlineData("-Sn", AdmCommandKind.Save)]
    [InlineData("-R", AdmCommandKind.Restore)]
    [InlineData("--restore", AdmCommandKind.Restore)]
    [InlineData("-h", AdmCommandKind.Help)]
    [InlineData("--help", AdmCommandKind.Help)]
    [InlineData("-v", AdmCommandKind.Version)]
    public void Commands(string line, AdmCommandKind kind) => Assert.Equal(kind, Ok(line).Command);

    [Fact]
    public void Add_service_with_everything()
    {
        var r = Ok("-A -t 203.0.113.10:443 -s sh -b sh-port,sh-fallback -p 600 -M 255.255.255.0");
        Assert.Equal(new AdmService("tcp", IPAddress.Parse("203.0.113.10"), 443), r.Service);
        Assert.Equal("sh", r.Scheduler);
        Assert.Equal(["sh-port", "sh-fallback"], r.SchedFlags);
        Assert.Equal(600, r.Persistence);
        Assert.Equal("255.255.255.0", r.Netmask);
    }

    [Fact]
    public void Ipvsadm_flag_numbers_map_to_sh_and_mh_flags_as_the_director_takes_them()
    {
        Assert.Equal(["sh-fallback", "sh-port"], Ok("-A -t 203.0.113.10:443 -s sh -b flag-1,flag-2").SchedFlags);
        Assert.Equal(["mh-port"], Ok("-A -t 203.0.113.10:443 -s mh -b flag-2").SchedFlags);
        Assert.Equal(["mh-fallback"], Ok("-A -t 203.0.113.10:443 -s mh -b flag-1,mh-fallback").SchedFlags);
    }

    [Fact]
    public void Options_in_any_order_and_long_forms_with_equals()
    {
        var a = Ok("-s rr -p -t 203.0.113.10:80 -A");
        var b = Ok("--scheduler=rr --persistent --tcp-service=203.0.113.10:80 --add-service");
        Assert.Equal(a, b);
        Assert.Equal(AdmParser.DefaultPersistence, a.Persistence);
        Assert.Equal("rr", a.Scheduler);
    }

    [Fact]
    public void Persistent_value_forms()
    {
        Assert.Equal(300, Ok("-A -t 1.2.3.4:80 -p").Persistence);
        Assert.Equal(300, Ok("-A -t 1.2.3.4:80 -p -s rr").Persistence);
        Assert.Equal(60, Ok("-A -t 1.2.3.4:80 -p 60").Persistence);
        Assert.Equal(60, Ok("-A -t 1.2.3.4:80 -p60").Persistence);
        Assert.Equal(60, Ok("-A -t 1.2.3.4:80 --persistent=60").Persistence);
        Assert.Null(Ok("-A -t 1.2.3.4:80").Persistence);
    }

    [Fact]
    public void Udp_and_ipv6_services()
    {
        var r = Ok("-A -u [2001:db8::10]:53 -s mh -b mh-port -p -M 64");
        Assert.Equal("udp", r.Service!.Protocol);
        Assert.True(r.Service.IsV6);
        Assert.Equal("2001:db8::10", r.Service.Vip);
        Assert.Equal(53, r.Service.Port);
        Assert.Equal("64", r.Netmask);

        var bare = Ok("-A -t 2001:db8::10 -p -6");
        Assert.Equal(0, bare.Service!.Port);
        Assert.True(bare.Service.IsV6);
    }

    [Fact]
    public void Service_names_and_hosts_use_the_resolvers()
    {
        var (r, e) = AdmParser.Parse(Split("-A -t web.example:http"),
            h => h == "web.example" ? IPAddress.Parse("203.0.113.9") : null,
            (p, proto) => p == "http" && proto == "tcp" ? 80 : null);
        Assert.Null(e);
        Assert.Equal(new AdmService("tcp", IPAddress.Parse("203.0.113.9"), 80), r!.Service);
    }

    [Fact]
    public void Real_server_port_defaults_to_the_service_port()
    {
        var r = Ok("-a -t 203.0.113.10:80 -r 192.0.2.11 -i -w 5 -x 100 -y 50");
        Assert.Equal(IPAddress.Parse("192.0.2.11"), r.RealAddress);
        Assert.Equal(80, r.RealPort);
        Assert.Equal(5, r.Weight);
        Assert.Equal(100, r.UpperThreshold);
        Assert.Equal(50, r.LowerThreshold);
    }

    [Fact]
    public void Tunnel_real_server_takes_the_service_port_like_ipvsadm()
    {
        Assert.Equal(80, Ok("-a -t 203.0.113.10:80 -r 192.0.2.11:8080 -i").RealPort);
        // -d is not rewritten by ipvsadm: the port given names the destination
        Assert.Equal(8080, Ok("-d -t 203.0.113.10:80 -r 192.0.2.11:8080").RealPort);
        Assert.Equal(80, Ok("-d -t 203.0.113.10:80 -r 192.0.2.11").RealPort);
    }

    [Fact]
    public void Ipv6_real_server()
    {
        var r = Ok("-a -t 203.0.113.10:80 -r [2001:db8::21]:80 --ipip");
        Assert.Equal(IPAddress.Parse("2001:db8::21"), r.RealAddress);
    }

    [Fact]
    public void Tunnel_options()
    {
        var r = Ok("-a -t 1.2.3.4:80 -r 10.0.0.1 -i --tun-type gue --tun-port 6080 --tun-remcsum");
        Assert.Equal("gue", r.TunType);
        Assert.Equal(6080, r.TunPort);
        Assert.Equal("remcsum", r.TunFlags);
        Assert.Equal("csum", Ok("-e -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue --tun-port 1 --tun-csum").TunFlags);
        Assert.Equal("nocsum", Ok("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue --tun-port 1 --tun-nocsum").TunFlags);
        Assert.Equal("ipip", Ok("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type ipip").TunType);
    }

    [Fact]
    public void List_options()
    {
        var r = Ok("-L -n --stats --exact --nosort --sort");
        Assert.Equal(AdmListFormat.Numeric | AdmListFormat.Stats | AdmListFormat.Exact | AdmListFormat.NoSort, r.Format);
        Assert.Equal(AdmListFormat.Rate, Ok("-L --rate").Format);
        Assert.Equal(AdmListFormat.Thresholds, Ok("-L --thresholds").Format);
        Assert.Equal(AdmListFormat.PersistentConn | AdmListFormat.Numeric, Ok("-l --persistent-conn -n").Format);
        Assert.Equal(AdmListFormat.TunInfo, Ok("-L --tun-info").Format);
        Assert.True(Ok("-L --timeout").ShowTimeouts);
        Assert.True(Ok("-Lnc").Connections);
        Assert.True(Ok("-L --connection").Connections);
        Assert.True(Ok("-L --daemon").Daemon);
        Assert.Equal(80, Ok("-L -n -t 1.2.3.4:80").Service!.Port);
        Assert.Equal(AdmListFormat.Exact | AdmListFormat.Stats, Ok("-L --stats -X").Format);
    }

    [Fact]
    public void Set_timeouts()
    {
        var r = Ok("--set 900 0 300");
        Assert.Equal((900, 0, 300), (r.TimeoutTcp, r.TimeoutTcpFin, r.TimeoutUdp));
    }

    [Fact]
    public void Api_and_token()
    {
        var r = Ok("-L -n --api 10.0.0.5:9500 --token s3cret");
        Assert.Equal("10.0.0.5:9500", r.Api);
        Assert.Equal("s3cret", r.Token);
        Assert.Equal("[::1]:9400", Ok("-C --api=[::1]:9400").Api);
    }

    [Theory]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -g")]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -m")]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --gatewaying")]
    [InlineData("-e -t 1.2.3.4:80 -r 10.0.0.1 --masquerading")]
    public void Gatewaying_and_masquerading_are_refused(string line)
    {
        var e = Bad(line);
        Assert.Equal(AdmParser.NotTunnelMessage, e.Message);
        Assert.Equal("TunLB forwards by tunnel only (LVS-TUN); -g and -m are not supported; use -i", e.Message);
        Assert.Equal(2, e.ExitCode);
    }

    [Theory]
    [InlineData("-A -f 1", "firewall-mark")]
    [InlineData("-A --fwmark-service 1 -6", "firewall-mark")]
    [InlineData("-A --sctp-service 1.2.3.4:80", "SCTP")]
    [InlineData("-A -t 1.2.3.4:53 -o", "one-packet")]
    [InlineData("-A -t 1.2.3.4:80 --pe sip", "persistence engines")]
    [InlineData("--start-daemon master", "synchronisation daemon")]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gre", "gre is not supported")]
    public void Unsupported_features_are_refused_clearly(string line, string fragment)
    {
        var e = Bad(line);
        Assert.Contains(fragment, e.Message);
        Assert.Equal(2, e.ExitCode);
    }

    [Theory]
    [InlineData("-L --bogus", "--bogus: unknown option", true)]
    [InlineData("-L -q", "-q: unknown option", true)]
    [InlineData("-A -t", "-t: missing argument", true)]
    [InlineData("-A --scheduler", "--scheduler: missing argument", true)]
    [InlineData("-C --numeric=1", "--numeric=1: option does not take an argument", true)]
    [InlineData("-n", "no command specified", true)]
    [InlineData("-A -L -t 1.2.3.4:80", "multiple commands specified", false)]
    [InlineData("-A -t 1.2.3.4:80 -s rr -s wlc", "multiple 'scheduler' options specified", false)]
    [InlineData("-A", "You need to supply the 'service-address' option for the 'add-service' command", false)]
    [InlineData("-a -t 1.2.3.4:80", "You need to supply the 'real-server' option for the 'add-server' command", false)]
    [InlineData("-D -t 1.2.3.4:80 -s rr", "Illegal 'scheduler' option with the 'delete-service' command", false)]
    [InlineData("-C -t 1.2.3.4:80", "Illegal 'service-address' option with the 'flush' command", false)]
    [InlineData("-A -t 1.2.3.4:80 -w 3", "Illegal 'weight' option with the 'add-service' command", false)]
    [InlineData("-S -c", "Illegal 'connection' option with the 'save' command", false)]
    [InlineData("-L -c --timeout", "The option 'timeout' conflicts with the 'connection' option in the 'list' command", false)]
    [InlineData("-L -c --stats", "options conflicts in the list command", false)]
    [InlineData("-L --timeout --persistent-conn", "options conflicts in the list command", false)]
    [InlineData("-A -t 1.2.3.4", "Zero port specified for non-persistent service", false)]
    [InlineData("-A -t 1.2.3.4:0", "Zero port specified for non-persistent service", false)]
    [InlineData("-A -t 1.2.3.4:99999", "illegal virtual server address[:port] specified", false)]
    [InlineData("-A -t 80", "illegal virtual server address[:port] specified", false)]
    [InlineData("-A -t no.such.host:80", "illegal virtual server address[:port] specified", false)]
    [InlineData("-A -t [2001:db8::1]", "illegal virtual server address[:port] specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 300.1.1.1", "illegal real server address[:port] specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -w 65536", "illegal weight specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -w x", "illegal weight specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -x -1", "illegal u_threshold specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -y z", "illegal l_threshold specified", false)]
    [InlineData("-A -t 1.2.3.4:80 -p 0", "invalid timeout value `0' specified", false)]
    [InlineData("-A -t 1.2.3.4:80 -p 2678401", "invalid timeout value `2678401' specified", false)]
    [InlineData("-A -t 1.2.3.4:80 -p -M 255.255.0.999", "illegal virtual server persistent mask specified", false)]
    [InlineData("-A -t [2001:db8::1]:80 -p -M 129", "illegal ipv6 netmask specified", false)]
    [InlineData("-A -t 1.2.3.4:80 -b sh-port", "incompatible scheduler flag `sh-port'", false)]
    [InlineData("-A -t 1.2.3.4:80 -s sh -b mh-port", "incompatible scheduler flag `mh-port'", false)]
    [InlineData("-A -t 1.2.3.4:80 -s sh -b bogus", "invalid scheduler flag `bogus'", false)]
    [InlineData("-A -t 1.2.3.4:80 -b flag-1", "scheduler flag `flag-1' means nothing to TunLB's wlc scheduler (flag-1 and flag-2 are fallback and port of sh and mh)", false)]
    [InlineData("-A -t 1.2.3.4:80 -s sh -b flag-3", "scheduler flag `flag-3' has no TunLB equivalent", false)]
    [InlineData("-A -t 1.2.3.4:80 -s lblc", "scheduler `lblc': TunLB has no lblc scheduler (it has rr wrr lc wlc sh dh mh sed nq); wlc is the nearest", false)]
    [InlineData("-A -t 1.2.3.4:80 -s lblcr", "scheduler `lblcr': TunLB has no lblcr scheduler (it has rr wrr lc wlc sh dh mh sed nq); wlc is the nearest", false)]
    [InlineData("-E -t 1.2.3.4:80 -s fo", "scheduler `fo': TunLB has no fo scheduler (it has rr wrr lc wlc sh dh mh sed nq); use one of those", false)]
    [InlineData("-A -t 1.2.3.4:80 -s bogus", "scheduler `bogus' not found (TunLB has rr wrr lc wlc sh dh mh sed nq)", false)]
    [InlineData("-A -t 1.2.3.4:80 -p -M 255.0.255.0", "persistent mask 255.0.255.0 is not contiguous (its one bits must all come first, like 255.255.255.0)", false)]
    [InlineData("--set 900 120", "--set option requires 3 timeout values", false)]
    [InlineData("--set 900 120 x", "invalid timeout value `x' specified", false)]
    [InlineData("-L extra", "unexpected argument extra", false)]
    [InlineData("--set 1 2 3 4", "unexpected argument 4", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-port 6080", "Illegal 'tun-port' option with the 'ipip' tunnel type", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-csum", "Illegal 'tun-csum' option with the 'ipip' tunnel type", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue", "You need to supply the 'tun-port' option for the 'gue' tunnel type", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue --tun-port 1 --tun-csum --tun-nocsum",
        "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type vxlan", "illegal tunnel type specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 --tun-type gue --tun-port 0", "illegal tunnel port specified", false)]
    [InlineData("-a -t 1.2.3.4:80 -r 10.0.0.1 -i -i", "multiple 'forwarding-method' options specified", false)]
    public void Errors_like_ipvsadm(string line, string message, bool tryHelp)
    {
        var e = Bad(line);
        Assert.Equal(message, e.Message);
        Assert.Equal(tryHelp, e.TryHelp);
        Assert.Equal(2, e.ExitCode);
    }

    [Fact]
    public void Help_wins_over_other_options() => Assert.Equal(AdmCommandKind.Help, Ok("-L -h").Command);
}
