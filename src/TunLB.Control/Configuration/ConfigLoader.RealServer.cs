using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

// realserver.toml.
public static partial class ConfigLoader
{
    private static readonly string[] RealServerFileTables = ["realserver", "egress"];
    private static readonly string[] RealServerKeys = ["vips", "directors", "tun_name", "gue", "gue_port", "mss_clamp", "metrics", "rps", "napi", "decap", "xdp_devices", .. HealthConfigReader.RealServerKeys];

    private static RealServerConfig BuildRealServer(TTable root, ErrorSink sink)
    {
        var top = new TableReader(sink, root, "", RealServerFileTables, name =>
            RealServerKeys.Contains(name) ? $"did you mean \"realserver.{name}\"? (put it after the [realserver] header)"
            : name is "director" or "service" ? $"[{name}] belongs in a director config, not a real-server config"
            : null);

        var e = top.Get("realserver");
        if (e is null)
        {
            sink.Add(1, 1, "realserver", "required table [realserver] is missing");
            return null!;
        }
        if (e.Value is not TTable t)
        {
            top.Error(e, $"expected a table ([realserver] header), got {e.Value.Describe()}");
            return null!;
        }
        var r = top.Child(t, "realserver", RealServerKeys);
        var vips = ReadAddressList(r, "vips");
        var directors = ReadAddressList(r, "directors");

        // VIPs and directors may be of either family, mixed: the agent receives IPv4 and IPv6 outer headers
        // (protocols 4 and 41) and GUE over either family.

        string tunName = RealServerConfig.DefaultTunName;
        if (r.Get("tun_name") is { } tn && r.TryString(tn, out var tunText))
        {
            if (ConfigText.TryCheckInterfaceName(tunText, out var err)) tunName = tunText;
            else r.Error(tn, err);
        }
        bool gue = r.Bool("gue", false);
        int guePort = r.Int("gue_port", 1, 65535, RealServerConfig.DefaultGuePort);
        int mss = 0;
        if (r.Get("mss_clamp") is { } mc)
        {
            switch (mc.Value)
            {
                case TScalar { Value: string ms } when ms == "auto":
                    mss = RealServerConfig.MssClampAuto;
                    break;
                case TScalar { Value: long n }:
                    if (n == 0 || (n >= MinMss && n <= MaxMss)) mss = (int)n;
                    else r.Error(mc, $"mss_clamp {n} is out of range; must be 0 (off), {MinMss}..{MaxMss} or \"auto\"");
                    break;
                default:
                    r.TypeError(mc, "an MSS in bytes like 1360, 0 (off) or \"auto\"");
                    break;
            }
        }
        string metrics = "", metricsHost = "";
        int metricsPort = 0;
        if (r.Get("metrics") is { } me && r.TryString(me, out var metricsText) && metricsText.Length > 0)
        {
            // An IP literal: the agent binds it without resolving anything.
            if (!ConfigText.TryParseHostPort(metricsText, out metricsHost, out metricsPort, out var err)) r.Error(me, err);
            else if (!System.Net.IPAddress.TryParse(metricsHost, out _)) r.Error(me, $"\"{metricsHost}\" in metrics must be an IP address, like 127.0.0.1:9403");
            else metrics = metricsText;
        }
        var rps = RpsMode.Off;
        if (r.Get("rps") is { } rp)
        {
            if (rp.Value is TScalar { Value: "auto" }) rps = RpsMode.Auto;
            else if (rp.Value is TScalar { Value: "off" }) rps = RpsMode.Off;
            else r.TypeError(rp, "\"auto\" or \"off\"");
        }
        var napi = NapiMode.Off;
        if (r.Get("napi") is { } np)
        {
            if (np.Value is TScalar { Value: "threaded" }) napi = NapiMode.Threaded;
            else if (np.Value is TScalar { Value: "off" }) napi = NapiMode.Off;
            else r.TypeError(np, "\"threaded\" or \"off\"");
        }
        var decap = DecapMode.Agent;
        if (r.Get("decap") is { } dc)
        {
            if (dc.Value is TScalar { Value: "xdp" }) decap = DecapMode.Xdp;
            else if (dc.Value is TScalar { Value: "agent" }) decap = DecapMode.Agent;
            else r.TypeError(dc, "\"agent\" or \"xdp\"");
        }
        var xdpDevices = new List<string>();
        if (r.Get("xdp_devices") is { } xd)
        {
            if (xd.Value is not TArray devices) r.TypeError(xd, "an array of interface names, like [\"eth0\"]");
            else
                foreach (var d in devices.Items)
                {
                    if (d is not TScalar { Value: string name }) { r.TypeError(xd, "an array of interface names, like [\"eth0\"]"); break; }
                    if (!ConfigText.TryCheckInterfaceName(name, out var err)) { r.Error(xd, err); break; }
                    if (xdpDevices.Contains(name)) { r.Error(xd, $"\"{name}\" is listed twice in xdp_devices"); break; }
                    xdpDevices.Add(name);
                }
            if (decap != DecapMode.Xdp && xdpDevices.Count > 0) r.Error(xd, "xdp_devices needs decap = \"xdp\"");
        }
        var vipList = vips.Select(v => v.Address).ToList();
        return HealthConfigReader.ReadRealServer(r, new RealServerConfig(vipList, directors.Select(d => d.Address).ToList(),
            tunName, sink.File)
        {
            Gue = gue,
            GuePort = guePort,
            MssClamp = mss,
            Metrics = metrics,
            MetricsHost = metricsHost,
            MetricsPort = metricsPort,
            Rps = rps,
            Napi = napi,
            Decap = decap,
            XdpDevices = xdpDevices,
            Egress = EgressScheduleConfig.Read(top, vipList),
        });
    }

    /// <summary>A required, non-empty array of host addresses without duplicates.</summary>
    private static List<(IpAddress Address, string Key, TNode Node)> ReadAddressList(TableReader r, string key)
    {
        var result = new List<(IpAddress, string, TNode)>();
        var e = r.Required(key);
        if (e is null) return result;
        if (e.Value is not TArray arr)
        {
            r.TypeError(e, $"an array of addresses, like [\"192.0.2.1\"]");
            return result;
        }
        if (arr.Items.Count == 0)
        {
            r.Error(e, "must list at least one address");
            return result;
        }
        var seen = new Dictionary<IpAddress, string>();
        for (int i = 0; i < arr.Items.Count; i++)
        {
            var item = arr.Items[i];
            var itemKey = $"{r.KeyPath(key)}[{i}]";
            if (item is not TScalar { Value: string s })
            {
                r.Error(item, itemKey, $"expected an address string, got {item.Describe()}");
                continue;
            }
            if (!ConfigText.TryParseHostAddress(s, out var a, out var err))
            {
                r.Error(item, itemKey, err);
                continue;
            }
            if (seen.TryGetValue(a, out var firstKey))
            {
                r.Error(item, itemKey, $"duplicate address {a} (already {firstKey})");
                continue;
            }
            seen.Add(a, itemKey);
            result.Add((a, itemKey, item));
        }
        return result;
    }
}
