using System.Diagnostics;

namespace TunLB.Cli.Egress;

/// <summary>One host-side setting that can produce the same symptom as a provider's source filter, and whether it is set here.</summary>
public sealed record HostCheck(string Name, bool? IsSet, string Found, string Effect);

/// <summary>
/// The real server's own source validation, checked before blaming the provider: reverse-path filtering
/// (<c>net.ipv4.conf.*.rp_filter</c>), nftables <c>fib saddr</c> / rpfilter rules (IPv4 and IPv6; iptables-nft's
/// <c>rpfilter</c> match shows in the same ruleset) and firewalld's IPv6_rpfilter. <see cref="Evaluate"/> is pure
/// (tested with made-up inputs); <see cref="Collect"/> reads this host (its network namespace).
/// </summary>
public static class HostSourceChecks
{
    /// <summary>Reads /proc/sys/net/ipv4/conf/*/rp_filter, `nft list ruleset` and /etc/firewalld/firewalld.conf; what cannot be read is reported as unknown.</summary>
    public static IReadOnlyList<HostCheck> Collect()
    {
        var rp = new Dictionary<string, int>();
        try
        {
            foreach (var dir in Directory.GetDirectories("/proc/sys/net/ipv4/conf"))
                if (int.TryParse(File.ReadAllText(Path.Combine(dir, "rp_filter")).Trim(), out int v)) rp[Path.GetFileName(dir)] = v;
        }
        catch (Exception) { rp.Clear(); }
        string? firewalld = null;
        try { if (File.Exists("/etc/firewalld/firewalld.conf")) firewalld = File.ReadAllText("/etc/firewalld/firewalld.conf"); }
        catch (Exception) { }
        return Evaluate(rp.Count > 0 ? rp : null, NftRuleset(), firewalld);
    }

    private static string? NftRuleset()
    {
        try
        {
            var psi = new ProcessStartInfo("nft", "list ruleset") { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            string o = p.StandardOutput.ReadToEnd();
            p.WaitForExit(5000);
            return p.ExitCode == 0 ? o : null;
        }
        catch (Exception) { return null; }
    }

    /// <summary>
    /// Judges the inputs: <paramref name="rpFilter"/> maps interface name (and "all", "default") to its rp_filter value,
    /// null when unreadable; <paramref name="nftRuleset"/> is `nft list ruleset` output or null; <paramref name="firewalldConf"/> the
    /// firewalld.conf text or null (not installed).
    /// </summary>
    public static IReadOnlyList<HostCheck> Evaluate(IReadOnlyDictionary<string, int>? rpFilter, string? nftRuleset, string? firewalldConf)
    {
        var list = new List<HostCheck>();
        const string rpEffect = "drops received packets whose source would not be routed back out of the interface they came in on: " +
            "decapsulated requests arriving on the tunnel device are dropped, so no reply is ever sent (connections hang as with a provider filter)";
        if (rpFilter is null)
            list.Add(new HostCheck("net.ipv4.conf.*.rp_filter", null, "could not be read", rpEffect));
        else
        {
            rpFilter.TryGetValue("all", out int all);
            // The kernel uses max(conf.all, conf.IF) for each interface.
            var on = rpFilter.Where(kv => kv.Key is not ("all" or "default") && Math.Max(all, kv.Value) > 0)
                .OrderBy(kv => kv.Key, StringComparer.Ordinal)
                .Select(kv => $"{kv.Key}={Math.Max(all, kv.Value)}{(Math.Max(all, kv.Value) == 1 ? " (strict)" : " (loose)")}").ToList();
            string found = on.Count > 0 ? $"all={all}; effective: {string.Join(", ", on)}"
                : all > 0 ? $"all={all}" : $"0 on every interface (all={all})";
            list.Add(new HostCheck("net.ipv4.conf.*.rp_filter", on.Count > 0 || all > 0, found, rpEffect));
        }

        const string nftEffect = "an nftables rule matching on fib saddr (reverse-path filter) or an rpfilter match drops packets whose source fails the route lookup, " +
            "IPv4 or IPv6 (the ip6/inet tables are the IPv6 rpfilter)";
        if (nftRuleset is null)
            list.Add(new HostCheck("nftables fib saddr / rpfilter", null, "`nft list ruleset` not available", nftEffect));
        else
        {
            var rules = nftRuleset.Split('\n').Select(l => l.Trim())
                .Where(l => l.Contains("fib saddr", StringComparison.Ordinal) || l.Contains("rpfilter", StringComparison.OrdinalIgnoreCase)).ToList();
            list.Add(new HostCheck("nftables fib saddr / rpfilter", rules.Count > 0,
                rules.Count == 0 ? "no such rule" : string.Join(" | ", rules.Take(4)) + (rules.Count > 4 ? $" (+{rules.Count - 4} more)" : ""), nftEffect));
        }

        const string fwEffect = "firewalld's IPv6 reverse-path filter drops IPv6 packets whose source fails the route lookup";
        if (firewalldConf is null)
            list.Add(new HostCheck("firewalld IPv6_rpfilter", false, "firewalld not installed", fwEffect));
        else
        {
            var line = firewalldConf.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("IPv6_rpfilter=", StringComparison.Ordinal));
            bool set = line is null || !line.EndsWith("=no", StringComparison.OrdinalIgnoreCase); // firewalld's default is yes
            list.Add(new HostCheck("firewalld IPv6_rpfilter", set, line ?? "IPv6_rpfilter not set (firewalld default: yes)", fwEffect));
        }
        return list;
    }

    /// <summary>The checks as indented lines for the text report.</summary>
    public static string Text(IReadOnlyList<HostCheck> checks)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var c in checks)
        {
            string state = c.IsSet switch { true => "SET", false => "not set", null => "unknown" };
            sb.AppendLine($"  {c.Name}: {state}: {c.Found}");
            if (c.IsSet != false) sb.AppendLine($"      {c.Effect}");
        }
        return sb.ToString();
    }
}
