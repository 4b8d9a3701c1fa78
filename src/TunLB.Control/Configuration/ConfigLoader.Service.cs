using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

// One [[service]] of director.toml and its [[service.real]] tables (checked by RealServerRules).
public static partial class ConfigLoader
{
    private static readonly string[] ServiceKeys =
    [
        "vip", "port", "protocol", "scheduler", "scheduler_flags", "mh_table_size", "persistence",
        "persistence_netmask", "real",
        .. HealthConfigReader.ServiceKeys,
    ];
    private static readonly string[] RealKeys = [.. RealServerFieldNames.Config.All, .. HealthConfigReader.RealKeys];

    /// <summary>Validates one [[service]] and its reals; null if vip or port is unusable.</summary>
    private static ServiceConfig? ReadService(TableReader r)
    {
        IpAddress vip = default;
        bool vipOk = r.Required("vip") is { } vipEntry && r.TryHostAddress(vipEntry, out vip);
        bool v6 = vipOk && !vip.IsV4;

        long port = 0;
        var portEntry = r.Required("port");
        bool portOk = portEntry is not null && r.TryInteger(portEntry, 0, 65535, out port);

        var protocolName = r.OneOf("protocol", ["tcp", "udp"], "protocol") ?? "tcp";
        var schedulerRaw = r.OneOf("scheduler", Schedulers, "scheduler");
        var scheduler = schedulerRaw ?? "wlc";
        // Check flags against the scheduler only when the scheduler itself is valid.
        var flags = ReadSchedulerFlags(r, r.Get("scheduler") is null || schedulerRaw is not null ? scheduler : null);

        int mhTableSize = 65537;
        if (r.Get("mh_table_size") is { } mh && r.TryInteger(mh, MinMhTableSize, MaxMhTableSize, out var m))
        {
            if (ConfigText.IsPrime(m)) mhTableSize = (int)m;
            else r.Error(mh, $"{m} is not a prime number (the Maglev table size must be prime, e.g. 65537)");
        }

        int persistence = r.Int("persistence", 0, MaxTimeoutSeconds, 0);
        int prefix = ReadPersistencePrefix(r, v6);

        if (portOk && port == 0 && persistence == 0)
            r.Error(portEntry!, "port 0 (all ports) is only allowed with persistence > 0 (as ipvsadm -p with port 0)");

        var reals = new List<RealConfig>();
        var realTables = r.TableList("real");
        var seenReals = new Dictionary<IpAddress, int>();
        for (int j = 0; j < realTables.Count; j++)
        {
            var rr = r.Child(realTables[j], $"{r.Path}.real[{j}]", RealKeys);
            var real = ReadReal(rr, portOk ? (ushort)port : (ushort)0);
            if (real is null) continue;
            // Families may differ: an IPv4 VIP can be tunnelled to an IPv6 real server (4in6) and an IPv6 VIP to an
            // IPv4 one (6in4, protocol 41), as IPVS allows.
            if (seenReals.TryGetValue(real.Address, out var firstIndex))
            {
                var ae = rr.Get("address")!;
                rr.Error(ae, $"duplicate real {real.Address} in this service: already {r.Path}.real[{firstIndex}] " +
                             $"at line {reals.First(x => x.Address == real.Address).Line} " +
                             "(tunnel mode does not rewrite ports, so one address is one server)");
                continue;
            }
            seenReals.Add(real.Address, j);
            reals.Add(real);
        }

        var health = HealthConfigReader.ReadService(r, realTables, portOk ? (ushort)port : (ushort)0, protocolName);
        if (!vipOk || !portOk) return null;
        return new ServiceConfig
        {
            Health = health,
            Vip = vip,
            Port = (ushort)port,
            Protocol = protocolName == "udp" ? (byte)17 : (byte)6,
            ProtocolName = protocolName,
            Scheduler = scheduler,
            SchedulerFlags = flags,
            MhTableSize = mhTableSize,
            PersistenceSeconds = persistence,
            PersistencePrefix = prefix,
            Reals = reals,
            Line = r.Table.Line,
        };
    }

    private static IReadOnlyList<string> ReadSchedulerFlags(TableReader r, string? scheduler)
    {
        var e = r.Get("scheduler_flags");
        if (e is null) return [];
        if (e.Value is not TArray arr)
        {
            r.TypeError(e, "an array of strings, like [\"mh-port\"]");
            return [];
        }
        var flags = new List<string>();
        for (int i = 0; i < arr.Items.Count; i++)
        {
            var item = arr.Items[i];
            var key = $"{r.KeyPath("scheduler_flags")}[{i}]";
            if (item is not TScalar { Value: string f })
            {
                r.Error(item, key, $"expected a string, got {item.Describe()}");
                continue;
            }
            if (!SchedulerFlagNames.Contains(f))
            {
                var s = ConfigText.Suggest(f, SchedulerFlagNames);
                r.Error(item, key, $"unknown scheduler flag \"{f}\"; known: {string.Join(" ", SchedulerFlagNames)}"
                                   + (s is not null ? $" (did you mean \"{s}\"?)" : ""));
                continue;
            }
            if (scheduler is not null && !f.StartsWith(scheduler + "-", StringComparison.Ordinal))
            {
                r.Error(item, key, $"flag \"{f}\" is for scheduler {f[..f.IndexOf('-')]}, but this service uses {scheduler}");
                continue;
            }
            if (flags.Contains(f))
            {
                r.Error(item, key, $"flag \"{f}\" is listed twice");
                continue;
            }
            flags.Add(f);
        }
        return flags;
    }

    /// <summary>
    /// persistence_netmask: a contiguous dotted mask ("255.255.255.0") or a prefix length (24).
    /// IPv6 services take a prefix length 0..128 or an IPv6 mask ("ffff:ffff::").
    /// </summary>
    private static int ReadPersistencePrefix(TableReader r, bool v6)
    {
        int max = v6 ? 128 : 32;
        var e = r.Get("persistence_netmask");
        if (e is null) return max;
        switch (e.Value)
        {
            case TScalar { Value: long len }:
                if (len >= 0 && len <= max) return (int)len;
                r.Error(e, $"prefix length {len} is out of range; must be 0..{max} for an {(v6 ? "IPv6" : "IPv4")} service");
                return max;
            case TScalar { Value: string s }:
                if (!ConfigText.TryParseIp(s, out var mask, out var err))
                {
                    r.Error(e, $"{err}; expected a netmask like \"255.255.255.0\" or a prefix length like 24");
                    return max;
                }
                if (mask.IsV4 == v6)
                {
                    r.Error(e, $"netmask {s} is {ConfigText.Family(mask)} but the service vip is {(v6 ? "IPv6" : "IPv4")}");
                    return max;
                }
                int p = ConfigText.PrefixLength(mask);
                if (p >= 0) return p;
                r.Error(e, $"netmask {s} is not contiguous (its one bits must all come first, like 255.255.255.0)");
                return max;
            default:
                r.TypeError(e, "a netmask string like \"255.255.255.0\" or a prefix length like 24");
                return max;
        }
    }

    /// <summary>Checks one [[service.real]] with <see cref="RealServerRules"/>; null if its address is unusable.</summary>
    private static RealConfig? ReadReal(TableReader r, ushort servicePort)
    {
        var names = RealServerFieldNames.Config;
        var addressEntry = r.Get(names.Address);
        string? address = null;
        bool addressTypeError = addressEntry is not null && !r.TryString(addressEntry, out address);
        var check = RealServerRules.Check(new RealServerFields
        {
            Address = address,
            Port = r.Integer(names.Port),
            Weight = r.Integer(names.Weight),
            UpperThreshold = r.Integer(names.UpperThreshold),
            LowerThreshold = r.Integer(names.LowerThreshold),
            Mtu = r.Integer(names.Mtu),
            Encap = r.String(names.Encap),
            GuePort = r.Integer(names.GuePort),
            GueChecksum = r.OptionalBool(names.GueChecksum),
            Site = r.String(names.Site),
            Provider = r.String(names.Provider),
        }, servicePort, names);
        foreach (var e in check.Errors)
        {
            if (addressTypeError && e.Field == names.Address) continue; // its type error is already reported
            r.ErrorAt(e.Field, e.Message);
        }
        if (check.Value is not { } s) return null;
        return new RealConfig
        {
            Address = s.Address,
            Port = s.Port,
            Weight = s.Weight,
            UpperThreshold = s.UpperThreshold,
            LowerThreshold = s.LowerThreshold,
            Mtu = s.Mtu,
            Encap = s.Encap,
            GuePort = s.GuePort,
            GueChecksum = s.GueChecksum,
            Site = s.Site,
            Provider = s.Provider,
            Line = r.Table.Line,
        };
    }
}
