using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// Path MTU on the wire: the link from the internet to datacenter 2 has MTU 1400. A 2 MB upload with DF (the
/// default) through the VIP to rs3 must complete, and the client must receive frag-needed with the MTU that
/// fits the tunnel (1400 - 20 = 1380).
/// </summary>
public sealed class WireTests : IDisposable
{
    private readonly StandardLab _lab;
    private readonly LabServices _svc;
    private readonly string _work;

    // Reads the whole request body and answers with its length: a real upload sink bound to the VIP.
    private const string UploadServer = """
        import http.server, sys
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get('Content-Length', 0)); got = 0
                while got < n:
                    b = self.rfile.read(min(65536, n - got))
                    if not b: break
                    got += len(b)
                body = str(got).encode()
                self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
            def log_message(self, *a): pass
        s = http.server.HTTPServer((sys.argv[1], 8080), H); print('Serving HTTP', flush=True); s.serve_forever()
        """;

    public WireTests()
    {
        var prefix = Topology.NewPrefix();
        _work = Path.Combine(Path.GetTempPath(), prefix + "wire");
        _lab = StandardLab.Build(prefix, dc2Mtu: 1400);
        try
        {
            _svc = new LabServices(_lab, Tunlb.Command(), _work);
            _svc.StartRealServers(http: false);
            var script = Path.Combine(_work, "upload.py");
            File.WriteAllText(script, UploadServer);
            var up = _lab.Topology.Start("rs3", "upload-rs3", "python3", "-u", script, StandardLab.Vip);
            Assert.True(up.WaitForOutput("Serving HTTP", LabServices.StartTimeoutMs), up.Output);
            _svc.StartDirector($$"""
                [director]
                api = "127.0.0.1:9400"

                [[service]]
                vip = "{{StandardLab.Vip}}"
                port = 8080
                protocol = "tcp"
                scheduler = "rr"

                [[service.real]]
                address = "192.0.2.131"
                """);
        }
        catch
        {
            _lab.Topology.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _lab.Topology.Dispose();
        try { Directory.Delete(_work, true); } catch { }
    }

    [Fact]
    public void UploadThroughA1400ByteMtuPathCompletesAndTheClientLearnsTheTunnelMtu()
    {
        var payload = Path.Combine(_work, "upload.bin");
        var data = new byte[2 * 1024 * 1024];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(payload, data);
        var pcap = Path.Combine(_work, "client-icmp.pcap");
        using var cap = Capture.Start(_lab.Topology, "client", "eth0", pcap, "icmp");

        var r = _lab.Topology.Try("client", 90_000, "curl", "-s", "--max-time", "60", "--data-binary", "@" + payload,
            "-H", "Content-Type: application/octet-stream", $"http://{StandardLab.Vip}:8080/");
        cap.Stop();
        Assert.True(r.ExitCode == 0, $"curl exit {r.ExitCode}: {r.Stderr}\n{_svc.Director!.Output}");
        Assert.Equal(data.Length.ToString(), r.Stdout.Trim());

        // tshark decodes the frag-needed messages the client received; one must carry 1380 (1400 - 20 for IPIP).
        var t = Sh.Run("tshark", ["-r", pcap, "-n", "-Y", "icmp.type == 3 && icmp.code == 4", "-T", "fields", "-e", "ip.src", "-e", "icmp.mtu"]);
        Assert.True(t.ExitCode == 0, t.Stderr);
        var mtus = t.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.Contains(mtus, f => f[1] == "1380" && f[0].Split(',')[0] == StandardLab.Vip); // ip.src lists the outer source, then the quoted one
        Assert.Contains("path MTU toward 192.0.2.131 is 1400", _svc.Director!.Output);

        // Every generated packet decodes cleanly.
        var bad = Sh.Run("tshark", ["-r", pcap, "-n", "-o", "ip.check_checksum:TRUE", "-Y", $"ip.src == {StandardLab.Vip} && (_ws.malformed || _ws.expert.severity >= \"warning\")",
            "-T", "fields", "-e", "frame.number", "-e", "ip.src", "-e", "_ws.expert.message"]);
        Assert.True(bad.ExitCode == 0, bad.Stderr);
        Assert.Equal("", bad.Stdout.Trim());
    }
}
