using System.Runtime.CompilerServices;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using TunLB.Director.Sync;
using TunLB.Health;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Api;

/// <summary>
/// /metrics for one fixed state, byte for byte, against metrics.golden.txt: every family recorded there, its HELP and
/// TYPE lines, samples, label order, number formatting, and the families' order. A change to them shows here as a diff
/// to review. Families the file does not have (added since, or with values that vary, such as the process's) are left
/// out of the comparison; run with TUNLB_UPDATE_GOLDEN=1 to record the output as it is now.
/// </summary>
public sealed class MetricsGoldenTests
{
    private const string Toml = """
        [director]
        conn_max = 1000
        announce = true
        announce_table = 120

        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "rr"
        [service.check]
        type = "tcp"
        fall = 2
        [service.sorry]
        address = "192.0.2.200"
        [[service.real]]
        address = "192.0.2.11"
        [[service.real]]
        address = "192.0.2.12"
        weight = 3

        [[service]]
        vip = "2001:db8::10"
        port = 53
        protocol = "udp"
        scheduler = "wlc"
        [[service.real]]
        address = "2001:db8::21"
        port = 5353
        """;

    private sealed class NoWire : ISyncTransport
    {
        public int Receive(Span<byte> buffer, int timeoutMs, out IpAddress from) { from = default; return 0; }
        public bool Send(ReadOnlySpan<byte> datagram, IpAddress peer) => true;
        public void Dispose() { }
    }

    private static DirectorState FixedState()
    {
        var t = new FakeTime();
        var s = NewState(Toml, time: t);
        s.RunHook = (_, _) => { };
        for (ushort p = 40000; p < 40004; p++) { Send(s, Syn(p)); Send(s, Ack(p)); }
        Send(s, Ack(50000));                                                  // tcp_no_connection
        Send(s, TestPackets.Tcp(Client, 40010, Vip, 81, TcpFlags.Syn));       // no_service
        var id = s.Services[0].Destinations.First(d => d.Address.ToString() == "192.0.2.11").Id;
        for (int i = 0; i < 2; i++)
        {
            t.Advance(1);
            s.ReportCheck(id, CheckResult.Fail("refused", TimeSpan.FromMilliseconds(250)), t.Now);
        }
        t.Advance(4.5);
        s.Drain(s.Services[0].Key, IpAddress.Parse("192.0.2.12"), 80, removeWhenIdle: false);
        s.Io = new IoChoice(IoBackend.AfPacket, IoBackend.Auto);
        var sync = new SyncService(new SyncSettings { Enabled = true, Peers = [IpAddress.Parse("192.0.2.3")], Key = "0123456789abcdef-shared" },
            s.Engines, s.Commands, new NoWire(), s.Sync, clock: () => 1000);
        sync.Begin(1000);
        return s;
    }

    [Fact]
    public void Metrics_of_a_fixed_state_match_the_golden_file()
    {
        var s = FixedState();
        var text = Metrics.Render(s);
        MetricsFormat.Check(text);
        // The one value the state takes from the wall clock (the start counts as the last reload).
        var stamp = "tunlb_config_last_reload_timestamp_seconds " + s.LastReloadTime.ToUnixTimeSeconds() + "\n";
        Assert.Contains(stamp, text);
        text = text.Replace(stamp, "tunlb_config_last_reload_timestamp_seconds {start}\n");

        var golden = GoldenPath();
        if (Environment.GetEnvironmentVariable("TUNLB_UPDATE_GOLDEN") == "1") File.WriteAllText(golden, text);
        var expected = File.ReadAllText(golden);
        var recorded = Families(expected).Select(f => f.Name).ToHashSet();
        var rendered = Families(text);
        Assert.Equal(recorded.Order(), rendered.Select(f => f.Name).Where(recorded.Contains).Order());
        text = string.Concat(rendered.Where(f => recorded.Contains(f.Name)).Select(f => f.Text));
        var a = expected.Split('\n');
        var b = text.Split('\n');
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
            Assert.True(a[i] == b[i], $"line {i + 1} differs:\nexpected: {a[i]}\nactual:   {b[i]}");
        Assert.Equal(expected, text);
    }

    /// <summary>The text cut into families: each from its "# HELP name" line to the next family's.</summary>
    private static List<(string Name, string Text)> Families(string text)
    {
        var families = new List<(string Name, string Text)>();
        int start = 0;
        while (start < text.Length)
        {
            Assert.StartsWith("# HELP ", text[start..]);
            int next = text.IndexOf("\n# HELP ", start, StringComparison.Ordinal);
            int end = next < 0 ? text.Length : next + 1;
            families.Add((text[(start + 7)..text.IndexOf(' ', start + 7)], text[start..end]));
            start = end;
        }
        return families;
    }

    private static string GoldenPath([CallerFilePath] string self = "") => Path.Combine(Path.GetDirectoryName(self)!, "metrics.golden.txt");
}
