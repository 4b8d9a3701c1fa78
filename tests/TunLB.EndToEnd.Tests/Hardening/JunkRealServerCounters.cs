using System.Text.RegularExpressions;
using TunLB.Core.Packets;
using TunLB.Lab;

namespace TunLB.EndToEnd.Tests.Hardening;

/// <summary>
/// A real server's packet accounting at one moment: what its kernel passed to local delivery per tunnel kind (the
/// test's nft counters), what it lost at the sockets (/proc/net/raw drops, Udp InErrors), eth0's receive count, and
/// the agent's /metrics per receiver.
/// </summary>
internal sealed record RealServerCounters(
    Dictionary<string, long> KernelIp, long EthRx, long NftIpip, long NftGue, long RawDrops, long UdpInErrors,
    long IpipReceived, long IpipAccepted, long IpipInjected, long GueReceived, long GueAccepted, long GueInjected, long InjectErrors,
    long[] Drops)
{
    private const string Rs = "rs1", Ipip = "receiver=\"raw4/4\"", Gue = "receiver=\"gue/6080\"";

    public static RealServerCounters Read(Topology t)
    {
        var nft = Regex.Matches(t.Exec(Rs, "nft", "list", "counters", "table", "inet", "junkjudge"), @"counter (\w+) \{\s*packets (\d+)")
            .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value));
        // /proc/net/raw: local_address ":0004" is protocol 4; the last column counts the socket's drops.
        long rawDrops = t.Exec(Rs, "cat", "/proc/net/raw").Split('\n').Skip(1)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length > 2 && f[1].EndsWith(":0004", StringComparison.Ordinal)).Sum(f => long.Parse(f[^1]));
        var snmp = Snmp(t.Exec(Rs, "cat", "/proc/net/snmp") + t.Exec(Rs, "cat", "/proc/net/netstat"));
        long udpInErrors = snmp["Udp.InErrors"];
        var kernelIp = KernelIpDrops.ToDictionary(k => k, k => snmp[k]);
        long ethRx = long.Parse(t.Exec(Rs, "cat", "/sys/class/net/eth0/statistics/rx_packets").Trim());
        var r = t.Try(Rs, 30_000, "curl", "-sf", "--max-time", "10", "http://127.0.0.1:9403/metrics");
        if (r.ExitCode != 0) throw new InvalidOperationException($"agent GET /metrics: {r.ExitCode} {r.Stderr}");
        var m = JunkFloodTests.ParseMetrics(r.Stdout);
        var drops = new long[DropReasons.Count];
        for (int i = 1; i < drops.Length; i++)
            drops[i] = JunkFloodTests.Sum(m, "tunlb_realserver_dropped_packets_total", $"reason=\"{DropReasons.Names[i]}\"");
        return new RealServerCounters(kernelIp, ethRx, nft.GetValueOrDefault("ipip"), nft.GetValueOrDefault("gue"), rawDrops, udpInErrors,
            JunkFloodTests.Sum(m, "tunlb_realserver_received_packets_total", Ipip), JunkFloodTests.Sum(m, "tunlb_realserver_accepted_packets_total", Ipip),
            JunkFloodTests.Sum(m, "tunlb_realserver_injected_packets_total", Ipip),
            JunkFloodTests.Sum(m, "tunlb_realserver_received_packets_total", Gue), JunkFloodTests.Sum(m, "tunlb_realserver_accepted_packets_total", Gue),
            JunkFloodTests.Sum(m, "tunlb_realserver_injected_packets_total", Gue),
            JunkFloodTests.Sum(m, "tunlb_realserver_inject_errors_total"), drops);
    }

    /// <summary>Where the real server's kernel drops IPv4 packets before local delivery (reported, not judged).</summary>
    private static readonly string[] KernelIpDrops =
        ["Ip.InHdrErrors", "Ip.InAddrErrors", "Ip.InUnknownProtos", "Ip.InDiscards", "Ip.ReasmFails", "IpExt.InTruncatedPkts", "IpExt.InCsumErrors"];

    /// <summary>"Proto: name name" / "Proto: value value" line pairs as "Proto.name" → value.</summary>
    private static Dictionary<string, long> Snmp(string text)
    {
        var d = new Dictionary<string, long>();
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i + 1 < lines.Length; i += 2)
        {
            var names = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var values = lines[i + 1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (int k = 1; k < Math.Min(names.Length, values.Length); k++)
                if (long.TryParse(values[k], out var v)) d[names[0].TrimEnd(':') + "." + names[k]] = v;
        }
        return d;
    }

    public RealServerDelta Delta(RealServerCounters b) => new(
        KernelIp.ToDictionary(kv => kv.Key, kv => kv.Value - b.KernelIp[kv.Key]), EthRx - b.EthRx, NftIpip - b.NftIpip, NftGue - b.NftGue, RawDrops - b.RawDrops, UdpInErrors - b.UdpInErrors,
        IpipReceived - b.IpipReceived, IpipAccepted - b.IpipAccepted, IpipInjected - b.IpipInjected,
        GueReceived - b.GueReceived, GueAccepted - b.GueAccepted, GueInjected - b.GueInjected, InjectErrors - b.InjectErrors,
        Drops.Select((v, i) => v - b.Drops[i]).ToArray());
}

internal sealed record RealServerDelta(
    Dictionary<string, long> KernelIp, long EthRx, long NftIpip, long NftGue, long RawDrops, long UdpInErrors,
    long IpipReceived, long IpipAccepted, long IpipInjected, long GueReceived, long GueAccepted, long GueInjected, long InjectErrors,
    long[] Drops)
{
    public long Dropped => Drops.Sum();
    public int Reasons => Drops.Count(v => v > 0);

    /// <summary>What the kernel passed to local delivery was read or dropped at the socket, and every accepted packet injected.</summary>
    public bool Balanced =>
        NftIpip == IpipReceived + RawDrops &&
        NftGue == GueReceived + UdpInErrors &&
        IpipAccepted + GueAccepted == IpipInjected + GueInjected + InjectErrors;

    public string Describe() =>
        $"real server: eth0 received {EthRx} frames; the kernel dropped ({string.Join(", ", KernelIp.Select(kv => $"{kv.Key} {kv.Value}"))}) and passed {NftIpip} IPIP (raw socket drops {RawDrops}) and {NftGue} GUE " +
        $"(UDP InErrors {UdpInErrors}) to local delivery; agent read {IpipReceived} IPIP (accepted {IpipAccepted}, injected {IpipInjected}) " +
        $"and {GueReceived} GUE (accepted {GueAccepted}, injected {GueInjected}), inject errors {InjectErrors}, dropped {Dropped} " +
        $"({string.Join(", ", Drops.Select((v, i) => (v, i)).Where(x => x.v != 0).Select(x => $"{DropReasons.Names[x.i]} {x.v}"))}); balanced: {Balanced}";
}
