namespace TunLB.Control.Configuration;

/// <summary>The <c>[director]</c> keys whose reading is more than a range check (<see cref="DirectorKeys"/>).</summary>
internal static class DirectorKeyReaders
{
    public static DirectorSettings Api(TableReader r, DirectorSettings d)
    {
        if (r.Get("api") is not { } e || !r.TryString(e, out var text)) return d;
        if (ConfigText.TryParseHostPort(text, out var host, out var port, out var err))
            return d with { Api = text, ApiHost = host, ApiPort = port };
        r.Error(e, err);
        return d;
    }

    public static DirectorSettings TunName(TableReader r, DirectorSettings d)
    {
        if (r.Get("tun_name") is not { } e || !r.TryString(e, out var text)) return d;
        if (ConfigText.TryCheckInterfaceName(text, out var err)) return d with { TunName = text };
        r.Error(e, err);
        return d;
    }

    /// <summary>
    /// A kernel routing table id, 1..2^31-1 but not 253..255 (default, main, local): the director's routes there are
    /// what the routing daemon announces, so they must not land in a table the host routes with.
    /// </summary>
    public static DirectorSettings AnnounceTable(TableReader r, DirectorSettings d)
    {
        if (r.Get("announce_table") is not { } e || !r.TryInteger(e, 1, int.MaxValue, out var v)) return d;
        if (v is >= 253 and <= 255)
        {
            r.Error(e, $"table {v} is one of the kernel's own (253 default, 254 main, 255 local); choose another, e.g. 100");
            return d;
        }
        return d with { AnnounceTable = (int)v };
    }

    /// <summary><c>workers = N</c> (1..64) or <c>"auto"</c> (0: one per processor).</summary>
    public static DirectorSettings Workers(TableReader r, DirectorSettings d)
    {
        var e = r.Get("workers");
        if (e is null) return d;
        if (e.Value is TScalar { Value: string s })
        {
            if (s == "auto") return d with { Workers = 0 };
            r.Error(e, $"expected an integer 1..{ConfigLoader.MaxWorkers} or \"auto\", got \"{s}\"");
            return d;
        }
        if (e.Value is not TScalar { Value: long })
        {
            r.TypeError(e, $"an integer 1..{ConfigLoader.MaxWorkers} or \"auto\"");
            return d;
        }
        return r.TryInteger(e, 1, ConfigLoader.MaxWorkers, out var v) ? d with { Workers = (int)v } : d;
    }

    /// <summary>Read after <c>io</c>: only allowed with io = "afpacket".</summary>
    public static DirectorSettings CaptureInterfaces(TableReader r, DirectorSettings d)
    {
        var e = r.Get("capture_interfaces");
        if (e is null) return d;
        if (e.Value is not TArray arr)
        {
            r.TypeError(e, "an array of interface names, like [\"eth0\"]");
            return d;
        }
        // A bad io value is reported once; capture_interfaces is then checked as if it were "afpacket".
        bool ioBad = r.Get("io") is { } ioEntry && !(ioEntry.Value is TScalar { Value: string s } && ConfigNames.Io.TryParse(s, out _));
        if (d.Io != IoBackend.AfPacket && !ioBad)
        {
            r.Error(e, "capture_interfaces is only used with io = \"afpacket\" (with io = \"tun\" the VIP routes decide)");
            return d;
        }
        if (arr.Items.Count > ConfigLoader.MaxCaptureInterfaces)
        {
            r.Error(e, $"at most {ConfigLoader.MaxCaptureInterfaces} capture interfaces, got {arr.Items.Count}");
            return d;
        }
        var names = new List<string>();
        for (int i = 0; i < arr.Items.Count; i++)
        {
            var item = arr.Items[i];
            var key = $"{r.KeyPath("capture_interfaces")}[{i}]";
            if (item is not TScalar { Value: string name })
            {
                r.Error(item, key, $"expected an interface name (a string), got {item.Describe()}");
                continue;
            }
            if (!ConfigText.TryCheckInterfaceName(name, out var err)) { r.Error(item, key, err); continue; }
            if (names.Contains(name)) { r.Error(item, key, $"interface \"{name}\" is listed twice"); continue; }
            names.Add(name);
        }
        return d with { CaptureInterfaces = names };
    }
}
