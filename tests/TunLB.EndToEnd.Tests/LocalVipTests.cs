using System.Text.Json;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The director holds the VIP on `lo`, as IPVS wants it and as every LVS-TUN guide (and the kernel's ipvs.sh selftest)
/// sets it up. The service port must still reach the real servers through the tunnel, with no RST from the director's
/// own stack, while another port of the VIP is answered by a local service; after the director stops, the host's rules
/// and tables are as before. Run for both capture backends (io set explicitly: the default may change).
/// </summary>
public sealed class LocalVipTests
{
    private const string LocalServer =
        "import http.server\n" +
        "class H(http.server.BaseHTTPRequestHandler):\n" +
        " def do_GET(self):\n" +
        "  b=b'director-local\\n'; self.send_response(200); self.send_header('Content-Length',str(len(b))); self.end_headers(); self.wfile.write(b)\n" +
        " def log_message(self,*a): pass\n" +
        "s=http.server.HTTPServer(('" + StandardLab.Vip + "',8080),H); print('local ready',flush=True); s.serve_forever()\n";

    /// <summary>Three echo requests (raw socket: ping is not installed everywhere); prints the replies counted per sequence number.</summary>
    private const string Ping =
        "import socket,struct,sys,time\n" +
        "def csum(b):\n s=sum(struct.unpack('!%dH'%(len(b)//2),b)); s=(s>>16)+(s&0xffff); s+=s>>16; return ~s&0xffff\n" +
        "s=socket.socket(socket.AF_INET,socket.SOCK_RAW,socket.IPPROTO_ICMP); s.settimeout(0.2); n=[0,0,0]\n" +
        "for q in range(3):\n h=struct.pack('!BBHHH',8,0,0,0x7475,q)+b'tunlbping'*2; s.sendto(h[:2]+struct.pack('!H',csum(h))+h[4:],(sys.argv[1],0))\n" +
        "end=time.time()+2\n" +
        "while time.time()<end:\n" +
        " try: d,a=s.recvfrom(2048)\n except socket.timeout: continue\n" +
        " i=(d[0]&15)*4\n" +
        " if a[0]==sys.argv[1] and d[i]==0 and struct.unpack('!H',d[i+4:i+6])[0]==0x7475: n[struct.unpack('!H',d[i+6:i+8])[0]]+=1\n" +
        "print('replies',*n)\n";

    private static string Config(string io) => $$"""
        [director]
        api = "127.0.0.1:9400"
        io = "{{io}}"
        check_port_range = "61000-61099"

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = 80
        scheduler = "rr"
        {{string.Concat(StandardLab.RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\n"))}}

        [service.check]
        type = "http"
        path = "/"
        interval = 1.0
        timeout = 0.5
        rise = 1
        fall = 2
        """;

    [Theory]
    [InlineData("tun")]
    [InlineData("afpacket")]
    [InlineData("xdp")]
    public void Service_port_reaches_the_reals_other_ports_stay_local_and_the_host_is_restored(string io)
    {
        var prefix = Topology.NewPrefix();
        var work = Path.Combine(Path.GetTempPath(), prefix + "localvip");
        var lab = StandardLab.Build(prefix);
        try
        {
            var t = lab.Topology;
            t.Exec("director", "ip", "addr", "add", StandardLab.Vip + "/32", "dev", "lo");
            string Host() => t.Exec("director", "ip", "rule") + t.Exec("director", "ip", "-6", "rule") +
                             t.Exec("director", "nft", "list", "tables") + t.Try("director", 10_000, "ip", "route", "show", "table", "21580").Stdout +
                             t.Try("director", 10_000, "ip", "-6", "route", "show", "table", "21580").Stdout +
                             t.Exec("director", "sysctl", "net.ipv4.conf.eth0.accept_local");
            string before = Host();
            var services = new LabServices(lab, Tunlb.Command(), work);
            services.StartRealServers();
            var local = t.Start("director", "local-8080", "python3", "-u", "-c", LocalServer);
            Assert.True(local.WaitForOutput("local ready", LabServices.StartTimeoutMs), local.Output);
            var director = services.StartDirector(Config(io));
            Assert.Contains($"local VIP {StandardLab.Vip}: service ports TCP {StandardLab.Vip}:80", director.Output);
            Assert.Contains("fwmark 0x540000/0x540000 lookup 21580", t.Exec("director", "ip", "rule"));
            Thread.Sleep(3000); // three check intervals: a check reply dropped as a martian source would have taken the reals down (fall = 2)
            WaitAllUp(t, director, 20);

            var pcap = Path.Combine(work, "client.pcap");
            using var cap = Capture.Start(t, "client", "eth0", pcap, $"tcp and host {StandardLab.Vip}");
            var seen = new HashSet<string>();
            for (int i = 0; i < 6; i++)
            {
                var r = t.Try("client", 30_000, "curl", "-s", "--max-time", "10", $"http://{StandardLab.Vip}/");
                Assert.True(r.ExitCode == 0, $"curl #{i} through the VIP failed: {r.ExitCode} {r.Stderr}\n{director.Output}");
                seen.Add(r.Stdout.Trim());
            }
            Assert.Equal(["rs1", "rs2", "rs3"], seen.Order().ToArray());
            var other = t.Try("client", 30_000, "curl", "-s", "--max-time", "10", $"http://{StandardLab.Vip}:8080/");
            Assert.True(other.ExitCode == 0, $"the director's local service on port 8080 did not answer: {other.ExitCode} {other.Stderr}\n{director.Output}");
            Assert.Equal("director-local", other.Stdout.Trim());
            // Echo requests to the VIP: one answer each (the director's, answer_ping), not one from the engine and one from the kernel.
            var ping = t.Try("client", 30_000, "/usr/bin/python3", "-c", Ping, StandardLab.Vip);
            Assert.True(ping.ExitCode == 0, ping.Stdout + ping.Stderr);
            Assert.Equal("replies 1 1 1", ping.Stdout.Trim());
            cap.Stop();
            Assert.Equal(0, cap.Count($"src host {StandardLab.Vip} and src port 80 and tcp[tcpflags] & tcp-rst != 0"));
            Assert.True(cap.Count($"src host {StandardLab.Vip} and src port 80") >= 6, "no replies from the real servers seen");

            Assert.Contains("table 21580: default dev tunlb0", director.Output);
            Assert.Contains("accept_local eth0=1", director.Output);
            Assert.Equal(0, director.Stop());
            Assert.Equal(before, Host());
            Assert.DoesNotContain("21580", before);
            Assert.DoesNotContain("tunlb", before);
            local.Dispose();
        }
        finally
        {
            lab.Topology.Dispose();
            try { Directory.Delete(work, true); } catch { }
        }
    }

    /// <summary>
    /// The tunnel case of the kernel's ipvs.sh in its own shape (client behind a bridge, director, real server; the VIP
    /// put on the director's lo after `tunlb adm -A` / `-a -i`), run by scripts/ipvs-tun-selftest.
    /// </summary>
    [Theory]
    [InlineData("tun", "4")]
    [InlineData("afpacket", "4")]
    [InlineData("tun", "6")]
    [InlineData("afpacket", "6")]
    public void The_ipvs_selftest_tunnel_case_passes(string io, string family)
    {
        var script = Path.Combine(Tunlb.RepoRoot(), "scripts", "ipvs-tun-selftest");
        var r = Sh.Run("env", [$"TUNLB={Tunlb.Command()[0]}", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "timeout", "120", script, io, family], 150_000);
        Assert.True(r.ExitCode == 0, $"{r.Stdout}\n{r.Stderr}");
        Assert.Contains($"ipvs-tun-selftest ({io}, IPv{family}): PASS", r.Stdout);
    }

    private static void WaitAllUp(Topology t, BackgroundProcess director, double seconds)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            try
            {
                last = t.Exec("director", "curl", "-s", "--max-time", "5", "http://127.0.0.1:9400/api/v1/health");
                var reals = JsonDocument.Parse(last).RootElement.GetProperty("services")[0].GetProperty("reals").EnumerateArray()
                    .Select(r => r.GetProperty("health").GetProperty("status").GetString()).ToList();
                if (reals.Count == 3 && reals.All(s => s == "up")) return;
            }
            catch (Exception e) { last = e.Message; }
            Thread.Sleep(250);
        }
        throw new Xunit.Sdk.XunitException($"the reals did not all come up through the tunnel within {seconds} s: {last}\n{director.Output}");
    }
}
