using System.Globalization;
using System.Text;
using TunLB.Control.Api;

namespace TunLB.Cli.Adm;

/// <summary>
/// <c>-S</c>: the table as ipvsadm command lines (ipvsadm 1.31's FMT_RULE output of print_service_entry
/// and print_tunnel_rule), always numeric (as <c>-S -n</c>), services and reals sorted like ipvsadm.
/// Feeding the output to <c>-R</c> rebuilds the same table.
/// </summary>
public static class AdmSave
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Format(IReadOnlyList<ServiceDto> services, AdmListFormat format = AdmListFormat.None)
    {
        var sb = new StringBuilder();
        foreach (var s in AdmFormatter.Sorted(services, format))
        {
            foreach (var line in Lines(s, format)) sb.Append(line).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The -A line, then one -a line per real server.</summary>
    public static IEnumerable<string> Lines(ServiceDto s, AdmListFormat format = AdmListFormat.None)
    {
        bool v6 = AdmFormatter.IsV6(s.Vip);
        // Service: "-t|-u address:port".
        var svc = (s.Protocol.Equals("udp", StringComparison.OrdinalIgnoreCase) ? "-u " : "-t ")
                  + AdmFormatter.AddrPort(s.Vip, s.Port);

        // "-A %s -s %s", then " -p %u" and " -M mask" (only when not the whole address) for persistent
        // services, then " -b flags".
        var sb = new StringBuilder();
        sb.Append("-A ").Append(svc).Append(" -s ").Append(s.Scheduler);
        if (s.Persistence > 0)
        {
            sb.Append(" -p ").Append(s.Persistence.ToString(Inv));
            if (AdmFormatter.MaskText(s.PersistenceNetmask, v6) is { } mask) sb.Append(" -M ").Append(mask);
        }
        var flags = AdmFormatter.SchedFlags(s.Scheduler, s.Flags);
        if (flags.Length > 0) sb.Append(" -b ").Append(flags);
        yield return sb.ToString();

        foreach (var r in AdmFormatter.Sorted(s.Reals, format))
            yield return RealLine(svc, r);
    }

    /// <summary>
    /// print_tunnel_rule: "-a %s -r %s -i -w %d" followed, for tunnels, by "--tun-type ipip",
    /// "--tun-type gue --tun-port %d --tun-...csum" or "--tun-type gre --tun-...csum".
    /// TunLB appends " -x N" / " -y N" when a threshold is set (ipvsadm -S does not save thresholds).
    /// </summary>
    public static string RealLine(string svc, RealDto r)
    {
        var sb = new StringBuilder();
        sb.Append("-a ").Append(svc).Append(" -r ").Append(AdmFormatter.AddrPort(r.Address, r.Port))
          .Append(' ').Append(AdmFormatter.ForwardSwitch(r.Forward))
          .Append(" -w ").Append(r.Weight.ToString(Inv));
        if (AdmFormatter.ForwardName(r.Forward) == "Tunnel")
        {
            switch (r.TunType.ToLowerInvariant())
            {
                case "" or "ipip":
                    sb.Append(" --tun-type ipip");
                    break;
                case "gue":
                    sb.Append(" --tun-type gue --tun-port ").Append(r.TunPort.ToString(Inv))
                      .Append(' ').Append(AdmFormatter.TunFlagsOption(r.TunFlags));
                    break;
                case "gre":
                    sb.Append(" --tun-type gre ").Append(AdmFormatter.TunFlagsOption(r.TunFlags));
                    break;
            }
        }
        if (r.UpperThreshold > 0) sb.Append(" -x ").Append(r.UpperThreshold.ToString(Inv));
        if (r.LowerThreshold > 0) sb.Append(" -y ").Append(r.LowerThreshold.ToString(Inv));
        return sb.ToString();
    }
}
