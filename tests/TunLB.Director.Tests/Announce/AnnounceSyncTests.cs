using TunLB.Director.Announce;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Announce;

/// <summary>With [sync], nothing is announced until the director has its peers' connection tables (or gave up waiting).</summary>
public class AnnounceSyncTests
{
    private const string Config = """
        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "wlc"

        [[service.real]]
        address = "192.0.2.11"
        """;

    [Fact]
    public void Every_vip_is_withheld_while_sync_waits_and_announced_once_synced()
    {
        var s = new DirectorState(Parse(Config), new DirectorStateOptions { OuterSource = _ => DirectorAddress, Clock = () => 1000, HashSeed = 1 });
        var p = new AnnouncePolicy();
        var waiting = p.Decide(s.View, 1, drained: false, stopping: false, 0, synced: false);
        Assert.Empty(waiting.Announce);
        Assert.Equal("waiting for the connection tables of the sync peers", waiting.Withheld["203.0.113.10"]);
        var synced = p.Decide(s.View, 2, drained: false, stopping: false, 100, synced: true);
        Assert.Equal(["203.0.113.10"], synced.Announce.Select(v => v.ToString()));
        Assert.True(s.Sync.Synced); // a director without [sync] is synced from the start
    }
}
