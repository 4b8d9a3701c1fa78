using System.Globalization;
using System.Text;

namespace TunLB.Cli.Adm;

/// <summary>Text of `tunlb adm -L -n --cluster`: the directors, one table with a column per director, the disagreements.</summary>
public static class AdmClusterFormatter
{
    private const int CellWidth = 28;
    private const int FirstWidth = 30;

    public static string Format(ClusterViewModel v)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var ds = v.Directors;
        sb.Append(inv, $"TunLB fleet view: {ds.Count} directors\n");
        for (int i = 0; i < ds.Count; i++)
        {
            var d = ds[i];
            sb.Append(inv, $"  {d.Name,-24} ");
            if (!d.Reachable) { sb.Append(inv, $"UNREACHABLE: {d.Error}\n"); continue; }
            sb.Append(inv, $"config {v.ConfigHashes[i] ?? "?"}");
            if (d.Director is { } st)
            {
                if (st.Drained) sb.Append("  DRAINED");
                else if (st.Announce) sb.Append("  announces ").Append(st.Announced.Count == 0 ? "nothing" : string.Join(' ', st.Announced));
            }
            sb.Append('\n');
        }

        sb.Append($"{"Prot LocalAddress:Port",-FirstWidth}");
        foreach (var d in ds) sb.Append(Cell(d.Name));
        sb.Append('\n');
        sb.Append($"{"  -> RemoteAddress:Port",-FirstWidth}");
        foreach (var _ in ds) sb.Append(Cell(string.Create(inv, $"{"State",-11}{"Weight",6}{"Act",5}{"InAct",6}")));
        sb.Append('\n');
        foreach (var svc in v.Services)
        {
            sb.Append($"{svc.Protocol.ToUpperInvariant(),-4} {AdmClusterView.Endpoint(svc.Vip, svc.Port),-(FirstWidth - 5)}");
            for (int i = 0; i < ds.Count; i++)
                sb.Append(Cell(!ds[i].Reachable ? "-" : svc.Schedulers[i] ?? "(no such service)"));
            sb.Append('\n');
            foreach (var real in svc.Reals)
            {
                sb.Append($"  -> {AdmClusterView.Endpoint(real.Address, real.Port),-(FirstWidth - 5)}");
                for (int i = 0; i < ds.Count; i++)
                {
                    var c = real.Cells[i];
                    sb.Append(Cell(!ds[i].Reachable ? "-" : c is null ? "(absent)"
                        : string.Create(inv, $"{c.State,-11}{c.Weight,6}{c.Active,5}{c.Inactive,6}")));
                }
                sb.Append('\n');
            }
        }

        if (v.Disagreements.Count == 0) sb.Append("The directors agree.\n");
        else
        {
            sb.Append(inv, $"Where the directors disagree ({v.Disagreements.Count}):\n");
            foreach (var note in v.Disagreements) sb.Append("  ").Append(note).Append('\n');
        }
        return sb.ToString();
    }

    private static string Cell(string text) => text.Length >= CellWidth ? text + "  " : text.PadRight(CellWidth + 2);
}
