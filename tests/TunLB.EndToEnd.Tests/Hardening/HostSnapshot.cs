using TunLB.Lab;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// What a daemon may change in a namespace, as text: links, addresses, routes of every table, rules, proxy neighbours,
/// the nft ruleset and the sysctls the daemons write. Two snapshots are equal when the host is as it was.
/// </summary>
internal static class HostSnapshot
{
    public static string Take(Topology t, string role)
    {
        string Run(params string[] cmd) => $"$ {string.Join(' ', cmd)}\n{t.Try(role, 30_000, cmd).Stdout}";
        return string.Concat(
            Run("ip", "-o", "link", "show"),
            Run("ip", "-o", "addr", "show"),
            Run("ip", "-4", "route", "show", "table", "all"),
            Run("ip", "-6", "route", "show", "table", "all"),
            Run("ip", "-4", "rule", "show"),
            Run("ip", "-6", "rule", "show"),
            Run("ip", "neigh", "show", "proxy"),
            Run("nft", "list", "ruleset"),
            Run("sh", "-c", "grep -H . /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/ip_local_reserved_ports /proc/sys/net/ipv4/conf/*/rp_filter /proc/sys/net/ipv4/conf/*/proxy_arp"));
    }

    /// <summary>Waits until no address is tentative (IPv6 duplicate address detection of fresh links), at most 5 s.</summary>
    public static void WaitForDad(Topology t, string role)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (t.Try(role, 10_000, "ip", "addr", "show").Stdout.Contains("tentative") && sw.ElapsedMilliseconds < 5000) Thread.Sleep(100);
    }

    /// <summary>The lines only in one of the two snapshots, for the assertion message.</summary>
    public static string Diff(string before, string after)
    {
        var a = before.Split('\n').ToHashSet();
        var b = after.Split('\n').ToHashSet();
        return "gone: " + string.Join("\n  ", a.Except(b)) + "\nnew: " + string.Join("\n  ", b.Except(a));
    }
}
