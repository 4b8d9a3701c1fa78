using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>What one director's API answered for the fleet view; <see cref="Error"/> set when it did not answer.</summary>
public sealed record ClusterSnapshot(
    string Name, IReadOnlyList<ServiceDto>? Services, DirectorStatusDto? Director, string? ConfigToml, string? Error = null)
{
    public bool Reachable => Error is null && Services is not null;
}

/// <summary>One real server as one director sees it.</summary>
public sealed record ClusterCell(string State, int Weight, int Active, int Inactive);

/// <summary>One real server of a service, per director (null: that director does not have it, or did not answer).</summary>
public sealed record ClusterRealRow(string Address, int Port, IReadOnlyList<ClusterCell?> Cells);

/// <summary>One service, per director (null: absent there, or the director did not answer).</summary>
public sealed record ClusterServiceRow(string Protocol, string Vip, int Port, IReadOnlyList<string?> Schedulers, IReadOnlyList<ClusterRealRow> Reals)
{
    public string Label => $"{Protocol.ToUpperInvariant()} {AdmClusterView.Endpoint(Vip, Port)}";
}

/// <summary>The merged view: one row per service and real server with a column per director, and where they disagree.</summary>
public sealed record ClusterViewModel(
    IReadOnlyList<ClusterSnapshot> Directors, IReadOnlyList<string?> ConfigHashes,
    IReadOnlyList<ClusterServiceRow> Services, IReadOnlyList<string> Disagreements);

/// <summary>
/// Merges what several directors' APIs answered into one table and lists where they disagree: a director that does
/// not answer, a service or real server present on some only, a different scheduler, a real server's state or weight,
/// a VIP announced by some and withheld by others, a drained director, and configs whose services differ
/// (GET /api/v1/config.toml without comments and without [director], which is each host's own). Pure: no I/O.
/// </summary>
public static class AdmClusterView
{
    public static ClusterViewModel Merge(IReadOnlyList<ClusterSnapshot> snapshots)
    {
        int n = snapshots.Count;
        var notes = new List<string>();
        foreach (var s in snapshots.Where(s => !s.Reachable))
            notes.Add($"{s.Name}: unreachable ({s.Error ?? "no answer"}); not compared");
        var live = Enumerable.Range(0, n).Where(i => snapshots[i].Reachable).ToList();

        var keys = new SortedSet<(string Proto, string Vip, int Port)>();
        foreach (var i in live)
            foreach (var svc in snapshots[i].Services!) keys.Add((svc.Protocol, svc.Vip, svc.Port));

        var rows = new List<ClusterServiceRow>();
        foreach (var key in keys)
        {
            var per = new ServiceDto?[n];
            foreach (var i in live)
                per[i] = snapshots[i].Services!.FirstOrDefault(s => (s.Protocol, s.Vip, s.Port) == key);
            var row = ServiceRow(key, per);
            rows.Add(row);
            Present(notes, row.Label, live, i => per[i] is not null, snapshots);
            Differ(notes, row.Label + ": scheduler", live.Where(i => per[i] is not null), i => row.Schedulers[i]!, snapshots);
            foreach (var real in row.Reals)
            {
                var label = $"{row.Label} -> {Endpoint(real.Address, real.Port)}";
                var withService = live.Where(i => per[i] is not null).ToList();
                Present(notes, label, withService, i => real.Cells[i] is not null, snapshots);
                var both = withService.Where(i => real.Cells[i] is not null).ToList();
                Differ(notes, label + ": state", both, i => real.Cells[i]!.State, snapshots);
                Differ(notes, label + ": weight", both, i => real.Cells[i]!.Weight.ToString(CultureInfo.InvariantCulture), snapshots);
            }
        }

        var withStatus = live.Where(i => snapshots[i].Director is not null).ToList();
        var vips = withStatus.SelectMany(i => snapshots[i].Director!.Announced.Concat(snapshots[i].Director!.Withheld.Keys))
            .Distinct().Order(StringComparer.Ordinal);
        foreach (var vip in vips)
            Differ(notes, $"VIP {vip}", withStatus, i => Announcement(snapshots[i].Director!, vip), snapshots);
        foreach (var i in withStatus.Where(i => snapshots[i].Director!.Drained))
            notes.Add($"{snapshots[i].Name}: drained (announces nothing)");

        var hashes = snapshots.Select(s => s.Reachable && s.ConfigToml is { } c ? ConfigHash(c) : null).ToList();
        Differ(notes, "config (services of GET /api/v1/config.toml, sha256)", live.Where(i => hashes[i] is not null), i => hashes[i]!, snapshots);
        return new ClusterViewModel(snapshots, hashes, rows, notes);
    }

    private static ClusterServiceRow ServiceRow((string Proto, string Vip, int Port) key, ServiceDto?[] per)
    {
        var reals = new SortedSet<(string Address, int Port)>(Comparer<(string, int)>.Create(CompareEndpoints));
        foreach (var s in per)
            if (s is not null)
                foreach (var r in s.Reals) reals.Add((r.Address, r.Port));
        var realRows = reals.Select(r => new ClusterRealRow(r.Address, r.Port,
            per.Select(s => s?.Reals.FirstOrDefault(x => x.Address == r.Address && x.Port == r.Port) is { } dto ? Cell(dto) : null).ToList())).ToList();
        var schedulers = per.Select(s => s is null ? null : s.Flags.Count > 0 ? $"{s.Scheduler} ({string.Join(',', s.Flags)})" : s.Scheduler).ToList();
        return new ClusterServiceRow(key.Proto, key.Vip, key.Port, schedulers, realRows);
    }

    private static int CompareEndpoints((string Address, int Port) a, (string Address, int Port) b)
    {
        int c = System.Net.IPAddress.TryParse(a.Address, out var x) && System.Net.IPAddress.TryParse(b.Address, out var y)
            ? x.GetAddressBytes().AsSpan().SequenceCompareTo(y.GetAddressBytes()) : 0;
        if (c == 0) c = string.CompareOrdinal(a.Address, b.Address);
        return c != 0 ? c : a.Port.CompareTo(b.Port);
    }

    /// <summary>A real server's state: its health ("up", "down", "unchecked"; "-" from a director without health
    /// checking), with ",drain" while drained and ",sorry" for a sorry server.</summary>
    public static ClusterCell Cell(RealDto r)
    {
        var h = r.Health;
        var state = h?.Status ?? "-";
        if (h is { Draining: true }) state += ",drain";
        if (h is { Sorry: true }) state += ",sorry";
        return new ClusterCell(state, r.Weight, r.ActiveConns, r.InactiveConns);
    }

    private static string Announcement(DirectorStatusDto d, string vip) =>
        d.Announced.Contains(vip) ? "announced" : d.Withheld.TryGetValue(vip, out var why) ? $"withheld ({why})" : "not announced";

    /// <summary>sha256 (first 12 hex digits) of the config without comment lines, blank lines and the [director] table:
    /// the services, real servers, checks and weights that every director of a fleet should share.</summary>
    public static string ConfigHash(string toml)
    {
        var sb = new StringBuilder();
        bool inDirector = false;
        foreach (var raw in toml.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith('[')) inDirector = line == "[director]" || line.StartsWith("[director.", StringComparison.Ordinal);
            if (!inDirector) sb.Append(line).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..12];
    }

    /// <summary>Notes "X: only on A, B (not on C)" when the thing is present on some of <paramref name="among"/> only.</summary>
    private static void Present(List<string> notes, string what, IEnumerable<int> among, Func<int, bool> has, IReadOnlyList<ClusterSnapshot> s)
    {
        var list = among.ToList();
        var yes = list.Where(has).ToList();
        if (yes.Count == list.Count) return;
        notes.Add($"{what}: only on {Names(yes, s)} (not on {Names(list.Except(yes), s)})");
    }

    /// <summary>Notes "X: v1 on A, B; v2 on C" when <paramref name="value"/> is not the same on all of <paramref name="among"/>.</summary>
    private static void Differ(List<string> notes, string what, IEnumerable<int> among, Func<int, string> value, IReadOnlyList<ClusterSnapshot> s)
    {
        var groups = among.GroupBy(value, StringComparer.Ordinal).ToList();
        if (groups.Count <= 1) return;
        // The value most directors hold first, so the odd one out reads last.
        notes.Add($"{what}: " + string.Join("; ", groups.OrderByDescending(g => g.Count()).ThenBy(g => g.Min())
            .Select(g => $"{g.Key} on {Names(g, s)}")));
    }

    private static string Names(IEnumerable<int> idx, IReadOnlyList<ClusterSnapshot> s) => string.Join(", ", idx.Select(i => s[i].Name));

    public static string Endpoint(string address, int port) =>
        address.Contains(':') ? $"[{address}]:{port}" : $"{address}:{port}";
}
