using System.Security.Cryptography;
using Regex = System.Text.RegularExpressions.Regex;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>
/// The standard lab with the director on `io = "afpacket"`: port 80 (three reals, python http.server) and port 8080
/// (rs1, rs2: an upload server that answers POSTs with the body's length and SHA-256, health-checked over HTTP through
/// the tunnel). Client traffic crosses veth pairs, so it arrives CHECKSUM_PARTIAL and, for bulk data, as TSO
/// super-packets: exactly what the ring must fix before the engine sees it.
/// </summary>
public sealed class AfPacketLabFixture : IDisposable
{
    public StandardLab Lab { get; }
    public LabServices Services { get; }
    public string WorkDir { get; }
    public Topology T => Lab.Topology;
    public Dictionary<string, BackgroundProcess> Upload { get; } = new();

    public const string UploadServer =
        "import http.server,hashlib,sys\n" +
        "class H(http.server.BaseHTTPRequestHandler):\n" +
        " def reply(self,b):\n" +
        "  self.send_response(200); self.send_header('Content-Length',str(len(b))); self.end_headers(); self.wfile.write(b)\n" +
        " def do_GET(self): self.reply((sys.argv[1]+'\\n').encode())\n" +
        " def do_POST(self):\n" +
        "  n=int(self.headers['Content-Length']); h=hashlib.sha256(); got=0\n" +
        "  while got<n:\n" +
        "   d=self.rfile.read(min(65536,n-got))\n" +
        "   if not d: break\n" +
        "   h.update(d); got+=len(d)\n" +
        "  self.reply(f'{sys.argv[1]} {got} {h.hexdigest()}\\n'.encode())\n" +
        " def log_message(self,*a): pass\n" +
        "http.server.HTTPServer.allow_reuse_address=True\n" +
        "s=http.server.HTTPServer(('" + StandardLab.Vip + "',8080),H); print('upload ready',flush=True); s.serve_forever()\n";

    public static string Config => $$"""
        [director]
        api = "127.0.0.1:9400"
        io = "afpacket"
        check_port_range = "61000-61099"

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = 80
        scheduler = "rr"
        {{string.Concat(StandardLab.RealServers.Select(r => $"\n[[service.real]]\naddress = \"{r.Address}\"\n"))}}

        [[service]]
        vip = "{{StandardLab.Vip}}"
        port = 8080
        scheduler = "rr"

        [service.check]
        type = "http"
        path = "/"
        interval = 1.0
        timeout = 0.5
        rise = 2
        fall = 2

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        """;

    public AfPacketLabFixture()
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "afpacket");
        Lab = StandardLab.Build(prefix);
        try
        {
            Services = new LabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartRealServers();
            foreach (var role in new[] { "rs1", "rs2" }) StartUpload(role);
            Services.StartDirector(Config);
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    public void StartUpload(string role)
    {
        var p = T.Start(role, $"upload-{role}-{Environment.TickCount64}", "python3", "-u", "-c", UploadServer, role);
        if (!p.WaitForOutput("upload ready", LabServices.StartTimeoutMs)) throw new InvalidOperationException($"upload server on {role} did not start:\n{p.Output}");
        Upload[role] = p;
    }

    public Sh.Result Curl(params string[] args) => T.Try("client", 60_000, ["curl", "-s", "--max-time", "30", .. args]);

    public Sh.Result Api(string path) => T.Try("director", 20_000, "curl", "-s", "--max-time", "10", "http://127.0.0.1:9400" + path);

    public string Status(string addr, int service) =>
        System.Text.Json.JsonDocument.Parse(Api("/api/v1/health").Stdout).RootElement.GetProperty("services")[service]
            .GetProperty("reals").EnumerateArray().First(r => r.GetProperty("address").GetString() == addr)
            .GetProperty("health").GetProperty("status").GetString()!;

    public void WaitStatus(string addr, string status, int service, double seconds)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        string last = "";
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            try { if ((last = Status(addr, service)) == status) return; } catch (Exception e) { last = e.Message; }
            Thread.Sleep(200);
        }
        throw new Xunit.Sdk.XunitException($"{addr} did not become {status} within {seconds} s (last: {last})\n{Services.Director!.Output}");
    }

    public void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
    }
}

public sealed class AfPacketTests : IClassFixture<AfPacketLabFixture>
{
    private readonly AfPacketLabFixture _f;
    public AfPacketTests(AfPacketLabFixture f) { _f = f; }

    [Fact]
    public void StartupLineNamesTheBackendAndTheNftTableExists()
    {
        var output = _f.Services.Director!.Output;
        Assert.Contains("io afpacket: AF_PACKET TPACKET_V2 ring", output);
        var tables = _f.T.Exec("director", "nft", "list", "tables", "inet");
        Assert.Matches(@"table inet tunlb_capture_\d+", tables);
    }

    [Fact]
    public void RequestsSpreadOverTheRealsAndDownloadArrivesIntact()
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < 30; i++)
        {
            var r = _f.Curl($"http://{StandardLab.Vip}/");
            Assert.True(r.ExitCode == 0, $"curl #{i} failed: {r.ExitCode} {r.Stderr}\n{_f.Services.Director!.Output}");
            counts[r.Stdout.Trim()] = counts.GetValueOrDefault(r.Stdout.Trim()) + 1;
        }
        Assert.Equal(new[] { "rs1", "rs2", "rs3" }, counts.Keys.Order().ToArray());
        Assert.All(counts.Values, c => Assert.Equal(10, c));

        var outFile = Path.Combine(_f.WorkDir, "download.bin");
        var d = _f.Curl("-o", outFile, $"http://{StandardLab.Vip}/blob");
        Assert.True(d.ExitCode == 0, $"download failed: {d.ExitCode} {d.Stderr}");
        Assert.Equal(LabServices.BlobSize, new FileInfo(outFile).Length);
        Assert.Equal(_f.Services.BlobSha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(outFile))));
    }

    [Fact]
    public void TwoMegabyteUploadArrivesIntactThroughSegmentedSuperPackets()
    {
        var file = Path.Combine(_f.WorkDir, "upload.bin");
        var data = new byte[2 * 1024 * 1024];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(file, data);
        string sha = Convert.ToHexStringLower(SHA256.HashData(data));

        var dirPcap = Path.Combine(_f.WorkDir, "up-director.pcap");
        var rsPcaps = new[] { "rs1", "rs2" }.ToDictionary(r => r, r => Path.Combine(_f.WorkDir, $"up-{r}.pcap"));
        using var dirCap = Capture.Start(_f.T, "director", "eth0", dirPcap, $"dst host {StandardLab.Vip}");
        var rsCaps = rsPcaps.Select(kv => Capture.Start(_f.T, kv.Key, "eth0", kv.Value, "ip proto 4", snaplen: 2000)).ToList();
        try
        {
            var r = _f.Curl("-H", "Expect:", "--data-binary", "@" + file, $"http://{StandardLab.Vip}:8080/upload");
            Assert.True(r.ExitCode == 0, $"upload failed: {r.ExitCode} {r.Stderr}\n{_f.Services.Director!.Output}");
            Assert.Matches($@"^rs[12] {data.Length} {sha}$", r.Stdout.Trim());
        }
        finally
        {
            dirCap.Stop();
            foreach (var c in rsCaps) { c.Stop(); c.Dispose(); }
        }
        // The client's veth hands the director TSO super-packets (larger than the 1500-byte MTU) with partial checksums ...
        Assert.True(dirCap.Count("greater 3000") > 0, "expected GSO super-packets toward the VIP on the director's uplink");
        // ... and what reached the real servers is MTU-sized IPIP whose inner TCP checksums are all correct.
        int good = 0;
        foreach (var (role, pcap) in rsPcaps)
        {
            var ok = Sh.Run("tshark", ["-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE", "-o", "tcp.desegment_tcp_streams:FALSE", "-Y",
                "ip.proto == 4 && tcp.checksum.status == 1 && tcp.len > 0", "-T", "fields", "-e", "frame.number"]);
            good += ok.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
            // (TCP reassembly off: retransmissions would be reported as overlapping data, which is not what is checked here.)
            var problems = Sh.Run("tshark", ["-r", pcap, "-n", "-o", "tcp.check_checksum:TRUE", "-o", "tcp.desegment_tcp_streams:FALSE", "-Y",
                "ip.proto == 4 && tcp && (tcp.checksum.status != 1 || ip.checksum.status == \"Bad\")", "-T", "fields", "-e", "frame.number",
                "-e", "ip.src", "-e", "ip.dst", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.str", "-e", "ip.len", "-e", "tcp.len", "-e", "tcp.checksum", "-e", "tcp.checksum.status", "-e", "_ws.malformed", "-e", "tcp.seq_raw", "-e", "_ws.expert.message"]);
            Assert.True(problems.ExitCode == 0, problems.Stderr);
            Assert.True(problems.Stdout.Trim().Length == 0, $"{role}: IPIP packets with a bad inner TCP checksum: {problems.Stdout}");
            var big = Sh.Run("tshark", ["-r", pcap, "-n", "-Y", "ip.proto == 4 && frame.len > 1514", "-T", "fields", "-e", "frame.number"]);
            Assert.True(big.Stdout.Trim().Length == 0, $"{role}: IPIP packets over the MTU: {big.Stdout}");
        }
        Assert.True(good >= data.Length / 1500, $"only {good} tunnelled data segments with a verified inner TCP checksum");
    }

    [Fact]
    public void KernelDoesNotAlsoForwardVipTrafficIntoTheTunDevice()
    {
        var pcap = Path.Combine(_f.WorkDir, "tun.pcap");
        using var cap = Capture.Start(_f.T, "director", "tunlb0", pcap, $"src host {StandardLab.ClientAddress}");
        for (int i = 0; i < 5; i++)
            Assert.Equal(0, _f.Curl($"http://{StandardLab.Vip}/").ExitCode);
        cap.Stop();
        Assert.Equal(0, cap.Count());
        // The nftables rule did drop the kernel's copies.
        var table = _f.T.Exec("director", "nft", "list", "tables", "inet");
        var name = Regex.Match(table, @"tunlb_capture_\d+").Value;
        var rules = _f.T.Exec("director", "nft", "list", "table", "inet", name);
        // (The drop matches the service, VIP + protocol + port, since other ports of a VIP stay with the kernel.)
        Assert.Matches(@"ip daddr \. meta l4proto \. th dport @svc4 counter packets [1-9]\d* bytes \d+ drop", rules);
    }

    [Fact]
    public void ThroughTheTunnelHealthCheckGoesDownWhenTheServerStops()
    {
        Assert.Contains("through the tunnel", _f.Services.Director!.Output);
        _f.WaitStatus("192.0.2.12", "up", 1, 60);
        _f.WaitStatus("192.0.2.11", "up", 1, 60);
        _f.Upload["rs2"].Stop(9, 2000);
        _f.Upload.Remove("rs2");
        _f.WaitStatus("192.0.2.12", "down", 1, 1.0 * 2 + 4);
        Assert.Equal("up", _f.Status("192.0.2.11", 1));
        // Requests keep working on the remaining real.
        for (int i = 0; i < 4; i++)
        {
            var r = _f.Curl($"http://{StandardLab.Vip}:8080/");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal("rs1", r.Stdout.Trim());
        }
        _f.StartUpload("rs2");
        _f.WaitStatus("192.0.2.12", "up", 1, 1.0 * 3 + 4);
    }

    [Fact]
    public void StoppingTheDirectorRemovesItsNftTableAndReportsRingCounters()
    {
        // Some bulk traffic first, so the ring has super-packets to report.
        var file = Path.Combine(_f.WorkDir, "small-upload.bin");
        File.WriteAllBytes(file, new byte[300 * 1024]);
        Assert.Equal(0, _f.Curl("-H", "Expect:", "--data-binary", "@" + file, $"http://{StandardLab.Vip}:8080/upload").ExitCode);
        var director = _f.Services.Director!;
        Assert.Equal(0, director.Stop(15));
        Assert.Matches(@"ring: \d+ frames, [1-9]\d* GSO super-packets cut into [1-9]\d* segments", director.Output);
        Assert.DoesNotContain("tunlb_capture_", _f.T.Exec("director", "nft", "list", "tables"));
        _f.Services.StartDirector(AfPacketLabFixture.Config);
    }
}
