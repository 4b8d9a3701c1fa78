using System.Text.Json;
using TunLB.Core.Flows;

namespace TunLB.Linux.Tests;

/// <summary>The crash journal: what a process that died left is undone by the next start.</summary>
public sealed class HostJournalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tunlb-journal-").FullName;
    private string JournalPath => Path.Combine(_dir, "director-test.json");

    public void Dispose() => Directory.Delete(_dir, true);

    [Fact]
    public void A_crashed_process_s_changes_are_undone_and_listed_by_the_next_start()
    {
        using var ns = new TestNetns();
        var crashed = new HostNetwork(ns.Name) { Journal = new HostJournal(JournalPath) };
        crashed.WriteSysctl("net.ipv4.ip_forward", "1");
        crashed.AddAddress("lo", IpAddress.Parse("198.51.100.9"), 32);
        crashed.AddRoute(IpAddress.Parse("203.0.113.10"), 32, "lo");
        crashed.AddRoute(IpAddress.Parse("203.0.113.11"), 32, "lo");
        crashed.RemoveRoute(IpAddress.Parse("203.0.113.11"), 32, "lo");      // forgotten: not in the journal any more
        Assert.True(File.Exists(JournalPath));
        // The process dies here: no Undo, no Dispose.

        var lines = new HostJournal(JournalPath).Recover();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.StartsWith($"removed what process {Environment.ProcessId} left: ", l));
        Assert.Contains("route 203.0.113.10/32 dev lo", lines[0]);                 // newest first
        Assert.Contains("sysctl net.ipv4.ip_forward=1 (was 0)", lines[2]);
        Assert.Equal("0", ns.Run(() => File.ReadAllText("/proc/sys/net/ipv4/ip_forward")).Trim());
        Assert.DoesNotContain("198.51.100.9", ns.Exec("addr", "show", "dev", "lo"));
        Assert.DoesNotContain("203.0.113.10", ns.Exec("route", "show"));
        Assert.False(File.Exists(JournalPath));
        Assert.Empty(new HostJournal(JournalPath).Recover());                      // nothing left to do
    }

    [Fact]
    public void A_clean_undo_deletes_the_journal()
    {
        using var ns = new TestNetns();
        using (var host = new HostNetwork(ns.Name) { Journal = new HostJournal(JournalPath) })
        {
            host.AddAddress("lo", IpAddress.Parse("198.51.100.9"), 32);
            var steps = JsonDocument.Parse(File.ReadAllText(JournalPath)).RootElement.GetProperty("Steps");
            Assert.Equal(1, steps.GetArrayLength());
            Assert.Equal(["ip", "-n", ns.Name, "addr", "del", "198.51.100.9/32", "dev", "lo"],
                steps[0].GetProperty("Command").EnumerateArray().Select(e => e.GetString()!).ToArray());
        }
        Assert.False(File.Exists(JournalPath));
    }

    [Fact]
    public void The_journal_of_a_running_process_is_left_alone()
    {
        File.WriteAllText(JournalPath, """{"Pid":1,"Steps":[{"What":"x","Command":["ip","link","del","tlbnone0"]}]}""");
        var lines = new HostJournal(JournalPath).Recover();
        Assert.Single(lines);
        Assert.Contains("which is running: left alone", lines[0]);
        Assert.True(File.Exists(JournalPath));
    }

    // No process has this pid (above any pid_max).
    private const int DeadPid = int.MaxValue;

    private string Orphan(string name, int pid, ulong inode, string steps = """[{"What":"route 203.0.113.10/32 dev lo","Command":["ip","route","del","203.0.113.10/32","dev","lo"]}]""")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, $$"""{"Pid":{{pid}},"Steps":{{steps}},"NetnsInode":{{inode}}}""");
        return path;
    }

    [Fact]
    public void A_journal_whose_process_and_namespace_are_gone_is_swept_and_listed()
    {
        var gone = Orphan("director-tunlb0-netns77.json", DeadPid, 4026599999);
        var lines = HostJournal.SweepOrphans(_dir, () => new HashSet<ulong> { 4026531840 });
        Assert.False(File.Exists(gone));
        var line = Assert.Single(lines);
        Assert.Contains(gone, line);
        Assert.Contains($"process {DeadPid} and its network namespace are gone (1 step(s) went with it)", line);
    }

    [Fact]
    public void A_journal_is_kept_while_its_namespace_or_its_process_may_still_be_there()
    {
        var liveNs = Orphan("a-netns1.json", DeadPid, 4026531840);                       // namespace still exists
        var running = Orphan("b-netns2.json", 1, 4026599999);                             // pid 1 runs
        var other = Orphan("c-netns3.json", DeadPid, 4026599999,
            """[{"What":"x","Command":["ip","-n","tlbt-other","route","del","203.0.113.10/32","dev","lo"]}]""");   // another namespace
        var sysctl = Orphan("d-netns4.json", DeadPid, 4026599999,
            """[{"What":"x","Command":["sysctl","tlbt-other","net.ipv4.ip_forward","0"]}]""");
        var old = Path.Combine(_dir, "e-netns5.json");                                    // written before the inode was recorded
        File.WriteAllText(old, $$"""{"Pid":{{DeadPid}},"Steps":[]}""");
        var broken = Path.Combine(_dir, "f-netns6.json");
        File.WriteAllText(broken, "{not json");
        int asked = 0;
        var lines = HostJournal.SweepOrphans(_dir, () => { asked++; return new HashSet<ulong> { 4026531840 }; });
        Assert.Empty(lines);
        Assert.All(new[] { liveNs, running, other, sysctl, old, broken }, f => Assert.True(File.Exists(f), f));
        Assert.Equal(1, asked);   // the namespaces are listed once, and only when a journal needs it
        Assert.Empty(HostJournal.SweepOrphans(Path.Combine(_dir, "missing")));
    }

    [Fact]
    public void Nothing_is_swept_when_some_namespaces_cannot_be_seen()
    {
        var gone = Orphan("director-tunlb0-netns78.json", DeadPid, 4026599999);
        Assert.Empty(HostJournal.SweepOrphans(_dir, () => null));
        Assert.True(File.Exists(gone));
    }

    [Fact]
    public void The_journal_records_its_namespace_and_the_live_set_holds_it_and_a_namespace_kept_only_by_a_bind_mount()
    {
        using var ns = new TestNetns();   // `ip netns add`: no process in it, only the mount under /run/netns
        ulong nsInode = ns.Run(HostJournal.CurrentNetnsInode);
        ulong own = HostJournal.CurrentNetnsInode();
        Assert.NotEqual(0UL, own);
        Assert.NotEqual(own, nsInode);
        var live = HostJournal.LiveNetnsInodes();
        Assert.NotNull(live);   // root sees every process
        Assert.Contains(own, live);
        Assert.Contains(nsInode, live);

        var host = new HostNetwork(ns.Name) { Journal = new HostJournal(JournalPath, nsInode) };
        host.AddAddress("lo", IpAddress.Parse("198.51.100.9"), 32);
        Assert.Equal(nsInode, JsonDocument.Parse(File.ReadAllText(JournalPath)).RootElement.GetProperty("NetnsInode").GetUInt64());
        host.Undo();
    }
}
