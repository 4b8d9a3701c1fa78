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
}
