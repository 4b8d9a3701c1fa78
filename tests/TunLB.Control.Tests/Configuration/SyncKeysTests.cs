using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Control.Tests.Configuration;

/// <summary>The [sync] table (docs/connection-sync.md).</summary>
public sealed class SyncKeysTests
{
    private const string Key = "key = \"0123456789abcdef0123\"\n";

    private static SyncSettings Read(string body) => ConfigLoader.ParseDirector("[sync]\n" + body, "d.toml").Sync;

    private static IReadOnlyList<ConfigError> Errors(string body) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector("[sync]\n" + body, "d.toml")).Errors;

    [Fact]
    public void Without_the_table_sync_is_off_and_with_it_on_with_the_documented_defaults()
    {
        Assert.False(ConfigLoader.ParseDirector("[director]\n", "d.toml").Sync.Enabled);
        var s = Read("peers = [\"192.0.2.3\", \"2001:db8::3\"]\n" + Key);
        Assert.True(s.Enabled);
        Assert.Equal([IpAddress.Parse("192.0.2.3"), IpAddress.Parse("2001:db8::3")], s.Peers);
        Assert.Equal((8848, 1000, 65536, 5, 0, (IpAddress?)null), (s.Port, s.MaxMessagesPerSecond, s.QueueLength, s.ResyncWait, s.SyncId, s.Bind));
        Assert.Equal("0123456789abcdef0123", s.Key);
        Assert.False(Read("enabled = false\n").Enabled); // off: no peers or key needed
    }

    [Fact]
    public void Every_key_is_read()
    {
        var s = Read("peers = [\"192.0.2.3\"]\n" + Key + "port = 9000\nbind = \"192.0.2.2\"\nsyncid = 7\nmax_messages_per_second = 50\n" +
                     "queue_length = 1024\nresync_wait = 0\n");
        Assert.Equal((9000, IpAddress.Parse("192.0.2.2"), 7, 50, 1024, 0), (s.Port, s.Bind!.Value, s.SyncId, s.MaxMessagesPerSecond, s.QueueLength, s.ResyncWait));
    }

    [Fact]
    public void A_key_file_is_read_without_its_newline_and_a_missing_one_is_an_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"tunlb-sync-key-{Environment.ProcessId}");
        File.WriteAllText(path, "fedcba9876543210fedcba\n");
        try
        {
            var s = Read($"peers = [\"192.0.2.3\"]\nkey_file = \"{path}\"\n");
            Assert.Equal(("fedcba9876543210fedcba", path), (s.Key, s.KeyFile));
        }
        finally { File.Delete(path); }
        var e = Assert.Single(Errors($"peers = [\"192.0.2.3\"]\nkey_file = \"{path}\"\n"));
        Assert.Equal(("sync.key_file", 3), (e.Key, e.Line));
        Assert.Contains("cannot read the key file", e.Message);
    }

    [Theory]
    [InlineData("peers = [\"192.0.2.3\"]\n", "sync.key", "shared secret")]
    [InlineData(Key, "sync.peers", "required")]
    [InlineData("peers = []\n" + Key, "sync.peers", "at least one")]
    [InlineData("peers = [\"224.0.0.81\"]\n" + Key, "sync.peers[0]", "multicast")]
    [InlineData("peers = [\"192.0.2.3\", \"192.0.2.3\"]\n" + Key, "sync.peers[1]", "twice")]
    [InlineData("peers = [\"not-an-ip\"]\n" + Key, "sync.peers[0]", "")]
    [InlineData("peers = \"192.0.2.3\"\n" + Key, "sync.peers", "array")]
    [InlineData("peers = [\"192.0.2.3\"]\nkey = \"short\"\n", "sync.key", "at least 16")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "key_file = \"/etc/x\"\n", "sync.key_file", "not both")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "port = 0\n", "sync.port", "out of range")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "syncid = 256\n", "sync.syncid", "out of range")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "max_messages_per_second = 0\n", "sync.max_messages_per_second", "out of range")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "queue_length = 8\n", "sync.queue_length", "out of range")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "resync_wait = 3601\n", "sync.resync_wait", "out of range")]
    [InlineData("peers = [\"2001:db8::3\"]\n" + Key + "bind = \"192.0.2.2\"\n", "sync.peers", "IPv6 but bind")]
    [InlineData("peers = [\"192.0.2.3\"]\n" + Key + "peer = 1\n", "sync.peer", "did you mean \"peers\"")]
    public void Bad_values_name_file_line_and_key(string body, string key, string message)
    {
        var e = Assert.Single(Errors(body));
        Assert.Equal(key, e.Key);
        Assert.Equal("d.toml", e.File);
        Assert.True(e.Line >= 1);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Sync_keys_above_the_table_are_reported_in_the_file_with_every_other_error()
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.ParseDirector(
            "[director]\nttl = 0\n[sync]\npeers = [\"192.0.2.3\"]\nport = 70000\n", "d.toml")).Errors;
        Assert.Equal(["director.ttl", "sync.key", "sync.port"], errors.Select(e => e.Key).Order());
        Assert.Contains(errors, e => e.Key == "sync.port" && e.Line == 5);
    }

    [Fact]
    public void Every_sync_key_renders_back_to_what_was_read()
    {
        var s = Read("peers = [\"192.0.2.3\"]\n" + Key + "port = 9000\nbind = \"192.0.2.2\"\n");
        var text = "[sync]\n" + string.Concat(DirectorKeys.Sync.Select(k => k.Toml(s) is { } v ? $"{k.Name} = {v}\n" : ""));
        var back = ConfigLoader.ParseDirector(text, "d.toml").Sync;
        Assert.Equal(s.Peers, back.Peers);
        Assert.Equal(s with { Peers = [] }, back with { Peers = [] });
    }
}
