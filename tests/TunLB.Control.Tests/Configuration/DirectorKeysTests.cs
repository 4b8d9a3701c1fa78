using System.Collections;
using TunLB.Control.Configuration;

namespace TunLB.Control.Tests.Configuration;

public class DirectorKeysTests
{
    /// <summary>A value other than the default for every key (capture_interfaces needs io = "afpacket").</summary>
    private static readonly Dictionary<string, string> Samples = new()
    {
        ["api"] = "\"127.0.0.2:9500\"", ["api_token"] = "\"t\"", ["tun_name"] = "\"tunlb9\"", ["tun_mtu"] = "1400",
        ["io"] = "\"afpacket\"", ["capture_interfaces"] = "[\"eth0\"]", ["ttl"] = "32", ["conn_max"] = "1000",
        ["conn_full_policy"] = "\"refuse\"", ["timeout_tcp"] = "100", ["timeout_tcp_fin"] = "10", ["timeout_udp"] = "30",
        ["sloppy_tcp"] = "true", ["expire_quiescent_template"] = "true", ["restore_inner_ttl"] = "false",
        ["answer_ping"] = "false", ["icmp_rate"] = "10", ["icmp_burst"] = "5", ["frag_max"] = "100", ["tx"] = "\"raw\"",
        ["busy_poll_us"] = "7", ["pmtu_expires"] = "0", ["workers"] = "\"auto\"", ["check_port_range"] = "\"62000-62010\"",
        ["announce"] = "true", ["announce_table"] = "200", ["withdraw_grace"] = "0",
        ["syn_flood_rate"] = "1000", ["syn_flood_mode"] = "\"both\"", ["syn_flood_synrecv_timeout"] = "3",
        ["conn_half_open_fill"] = "0", ["api_tls_cert"] = "\"/etc/tunlb/api.pem\"", ["api_tls_key"] = "\"/etc/tunlb/api.key\"",
    };

    private static DirectorSettings With(string key) =>
        ConfigLoader.ParseDirector("[director]\n" + (key == "capture_interfaces" ? "io = \"afpacket\"\n" : "") +
                                   (key == "api_tls_key" ? "api_tls_cert = \"/etc/tunlb/api.pem\"\n" : "") +
                                   $"{key} = {Samples[key]}\n", "d.toml").Director;

    [Fact]
    public void Every_key_has_a_sample() => Assert.Equal(DirectorKeys.Names.Order(), Samples.Keys.Order());

    [Fact]
    public void Each_key_is_read_and_rendered_back_as_written()
    {
        foreach (var k in DirectorKeys.All)
        {
            var d = With(k.Name);
            Assert.Equal(Samples[k.Name], k.Toml(d));
            Assert.NotEqual(k.Default, k.Toml(d));
        }
    }

    [Fact]
    public void Defaults_render_to_a_file_that_reads_back_as_the_defaults()
    {
        var text = "[director]\n" + string.Concat(DirectorKeys.All.Where(k => k.Default is not null).Select(k => $"{k.Name} = {k.Default}\n"));
        var d = ConfigLoader.ParseDirector(text, "d.toml").Director;
        foreach (var k in DirectorKeys.All) Assert.Equal(k.Default, k.Toml(d));
        Assert.Null(DirectorKeys.All.Single(k => k.Name == "capture_interfaces").Default);
    }

    [Fact]
    public void Every_settings_property_belongs_to_a_key()
    {
        // Properties a key sets besides its own (api sets ApiHost/ApiPort, check_port_range its two ends).
        var touched = new HashSet<string>();
        foreach (var k in DirectorKeys.All)
        {
            var d = With(k.Name);
            foreach (var p in typeof(DirectorSettings).GetProperties().Where(p => p.CanWrite))
                if (!Same(p.GetValue(DirectorSettings.Defaults), p.GetValue(d))) touched.Add(p.Name);
        }
        var all = typeof(DirectorSettings).GetProperties().Where(p => p.CanWrite && p.Name != "EqualityContract").Select(p => p.Name);
        Assert.Equal([], all.Except(touched));
    }

    [Fact]
    public void Only_the_timeouts_are_applied_by_a_reload() =>
        Assert.Equal(["timeout_tcp", "timeout_tcp_fin", "timeout_udp"], DirectorKeys.All.Where(k => !k.NeedsRestart).Select(k => k.Name));

    [Fact]
    public void Restart_only_lists_each_changed_restart_key()
    {
        foreach (var k in DirectorKeys.All)
        {
            var changed = DirectorKeys.RestartOnly(DirectorSettings.Defaults, With(k.Name)).Select(c => c.Key).ToList();
            if (k.NeedsRestart) Assert.Contains(k.Name, changed);
            else Assert.Empty(changed);
        }
        Assert.Empty(DirectorKeys.RestartOnly(DirectorSettings.Defaults, DirectorSettings.Defaults));
    }

    [Fact]
    public void Restart_only_shows_values_as_messages_do()
    {
        var a = DirectorSettings.Defaults;
        Assert.Contains(("io", "tun", "afpacket"), DirectorKeys.RestartOnly(a with { Io = IoBackend.Tun }, a with { Io = IoBackend.AfPacket }));
        Assert.Contains(("io", "auto", "xdp"), DirectorKeys.RestartOnly(a, a with { Io = IoBackend.Xdp }));
        Assert.Contains(("workers", "1", "auto"), DirectorKeys.RestartOnly(a, a with { Workers = 0 }));
        Assert.Contains(("capture_interfaces", "", "eth0,eth1"), DirectorKeys.RestartOnly(a, a with { CaptureInterfaces = ["eth0", "eth1"] }));
        Assert.Contains(("sloppy_tcp", "false", "true"), DirectorKeys.RestartOnly(a, a with { SloppyTcp = true }));
        var set = a with { ApiToken = "one" };
        Assert.Contains(("api_token", "(set)", "(another)"), DirectorKeys.RestartOnly(set, set with { ApiToken = "two" }));
        Assert.Contains(("api_token", "(none)", "(set)"), DirectorKeys.RestartOnly(a, set));
    }

    [Fact]
    public void Enum_names_round_trip()
    {
        foreach (var io in Enum.GetValues<IoBackend>()) Assert.True(ConfigNames.Io.TryParse(io.ConfigName(), out var back) && back == io);
        foreach (var tx in Enum.GetValues<TxMode>()) Assert.True(ConfigNames.Tx.TryParse(tx.ConfigName(), out var back) && back == tx);
        Assert.Equal(["tun", "afpacket", "xdp", "auto"], ConfigLoader.IoBackends);
        Assert.Equal(["auto", "raw", "sendmmsg", "ring"], ConfigLoader.TxModes);
        Assert.Equal(["ipip", "gue"], ConfigLoader.EncapNames);
        Assert.True(ConfigNames.Io.TryParse("xdp", out var xdp) && xdp == IoBackend.Xdp);
        Assert.False(ConfigNames.Io.TryParse("dpdk", out _));
    }

    private static bool Same(object? a, object? b) =>
        a is IEnumerable x && b is IEnumerable y && a is not string ? x.Cast<object>().SequenceEqual(y.Cast<object>()) : Equals(a, b);
}
