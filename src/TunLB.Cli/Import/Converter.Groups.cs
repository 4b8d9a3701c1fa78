using System.Globalization;
using TunLB.Control.Configuration;
using TunLB.Core.Flows;

namespace TunLB.Cli.Import;

// virtual_server_group: keepalived creates one IPVS service per member address (and per address of a range), each
// with the virtual_server's settings and real servers. The import writes one [[service]] per member the same way.
internal sealed partial class Converter
{
    /// <summary>Largest range the import expands (keepalived has no limit; a bigger one is more likely a typo).</summary>
    private const int MaxRange = 256;

    private List<(string Text, IpAddress Vip, long Port)> GroupMembers(KStatement vs)
    {
        var members = new List<(string, IpAddress, long)>();
        var name = vs.Arg(1);
        if (!_groups.TryGetValue(name, out var g))
        {
            Add(vs, ImportSeverity.Skipped, vs.Text,
                $"no virtual_server_group {name} is defined; keepalived skips this virtual_server too");
            return members;
        }
        foreach (var m in g.Block!)
        {
            if (Special(m)) continue;
            if (m.Keyword == "fwmark")
            {
                Add(m, ImportSeverity.Skipped, m.Text,
                    $"group {name}: TunLB selects a service by address, port and protocol, not by firewall mark; this member is skipped");
                continue;
            }
            long port = 0;
            if (m.Args.Count >= 1 && !Integer(m, 0, 65535, out port)) continue;
            foreach (var (text, ip) in Range(m, name)) members.Add((text, ip, port));
        }
        if (members.Count == 0)
            Add(vs, ImportSeverity.Skipped, vs.Text, $"virtual_server_group {name} has no address member TunLB can serve; block skipped");
        return members;
    }

    /// <summary>"192.0.2.10", or a range of the last part: "192.0.2.10-20", "2001:db8::10-1f" (keepalived's syntax).</summary>
    private IEnumerable<(string Text, IpAddress Ip)> Range(KStatement m, string group)
    {
        var text = m.Keyword;
        int dash = text.LastIndexOf('-');
        if (dash < 0)
        {
            if (ConfigText.TryParseHostAddress(text, out var one, out var err)) return [(text, one)];
            Add(m, ImportSeverity.Skipped, m.Text, $"group {group}: {err}; member skipped");
            return [];
        }
        var first = text[..dash];
        bool v6 = first.Contains(':');
        int sep = v6 ? first.LastIndexOf(':') : first.LastIndexOf('.');
        if (!ConfigText.TryParseHostAddress(first, out var start, out var e1) || sep < 0
            || !int.TryParse(first[(sep + 1)..], v6 ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out var lo)
            || !int.TryParse(text[(dash + 1)..], v6 ? NumberStyles.HexNumber : NumberStyles.None, CultureInfo.InvariantCulture, out var hi)
            || hi < lo || hi > (v6 ? 0xffff : 255))
        {
            Add(m, ImportSeverity.Skipped, m.Text, $"group {group}: not an address or an address range like 192.0.2.10-20; member skipped");
            return [];
        }
        if (hi - lo + 1 > MaxRange)
        {
            Add(m, ImportSeverity.Skipped, m.Text, $"group {group}: the import expands ranges of at most {MaxRange} addresses; member skipped");
            return [];
        }
        var list = new List<(string, IpAddress)>();
        var prefix = first[..(sep + 1)];
        for (int i = lo; i <= hi; i++)
        {
            var a = prefix + (v6 ? i.ToString("x", CultureInfo.InvariantCulture) : i.ToString(CultureInfo.InvariantCulture));
            if (ConfigText.TryParseHostAddress(a, out var ip, out _)) list.Add((a, ip));
        }
        return list;
    }
}
