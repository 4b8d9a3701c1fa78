using TunLB.Core.Flows;
using TunLB.Core.Packets;

namespace TunLB.Control.Configuration;

/// <summary>
/// Loads and validates TunLB's TOML configuration files. Every problem in a file is collected
/// and reported together in one <see cref="ConfigException"/>; nothing is returned from a file
/// with any error. Pure: reads the file, opens no sockets, logs nothing.
/// </summary>
public static class ConfigLoader
{
    // Ranges shared with docs/configuration.md; keep them in step.
    public const int MinTunMtu = 576, MaxTunMtu = 65515;
    public const int MaxConnMax = 50_000_000;
    /// <summary>Longest timeout in seconds: its milliseconds still fit in an Int32.</summary>
    public const int MaxTimeoutSeconds = 2_147_483;
    public const int MinMhTableSize = 3, MaxMhTableSize = 16_777_213;
    /// <summary>Smallest frag_max (the fragment table is 4-way set-associative).</summary>
    public const int FragmentTableMinimum = 4;

    public static readonly IReadOnlyList<string> Schedulers = ["rr", "wrr", "lc", "wlc", "sh", "dh", "mh"];
    public static readonly IReadOnlyList<string> ConnFullPolicies = ["evict_oldest", "refuse"];
    public static IReadOnlyList<string> TxModes => ConfigNames.Tx.Names;
    public static IReadOnlyList<string> IoBackends => ConfigNames.Io.Names;
    /// <summary>At most this many capture_interfaces (the capture filter checks each one).</summary>
    public const int MaxCaptureInterfaces = 64;
    public static readonly IReadOnlyList<string> SchedulerFlagNames = ["sh-port", "sh-fallback", "mh-port", "mh-fallback"];

    private static readonly string[] DirectorFileTables = ["director", "service"];
    private static readonly string[] DirectorKeys =
    [
        "api", "api_token", "tun_name", "tun_mtu", "io", "capture_interfaces", "ttl", "conn_max", "conn_full_policy",
        "timeout_tcp", "timeout_tcp_fin", "timeout_udp", "sloppy_tcp", "expire_quiescent_template",
        "restore_inner_ttl", "answer_ping", "icmp_rate", "icmp_burst", "frag_max", "tx", "pmtu_expires", "workers",
        .. HealthConfigReader.DirectorKeys,
    ];
    private static readonly string[] ServiceKeys =
    [
        "vip", "port", "protocol", "scheduler", "scheduler_flags", "mh_table_size", "persistence",
        "persistence_netmask", "real",
        .. HealthConfigReader.ServiceKeys,
    ];
    private static readonly string[] RealKeys =
        ["address", "port", "weight", "upper_threshold", "lower_threshold", "mtu", "encap", "gue_port", "gue_checksum", .. HealthConfigReader.RealKeys];
    public static IReadOnlyList<string> EncapNames => ConfigNames.Encap.Names;
    public const int MinMtu = 576, MinMtuV6 = 1280, MaxMtu = 65535;
    public const int MaxIcmpRate = 1_000_000, MaxFragMax = 10_000_000;
    public const int MinMss = 536, MaxMss = 65495;
    private static readonly string[] RealServerFileTables = ["realserver"];
    private static readonly string[] RealServerKeys = ["vips", "directors", "tun_name", "gue", "gue_port", "mss_clamp", .. HealthConfigReader.RealServerKeys];

    // ---------------------------------------------------------------- public API

    /// <summary>Reads and validates a director config file.</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors.</exception>
    public static DirectorConfig LoadDirector(string path) => ParseDirector(ReadFile(path), path);

    /// <summary>Validates director config text; <paramref name="path"/> is used in error messages.</summary>
    /// <exception cref="ConfigException">The text has errors.</exception>
    public static DirectorConfig ParseDirector(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var sink = new ErrorSink(path);
        var root = TomlTree.Parse(text, path, sink.Errors);
        DirectorConfig? config = root is null ? null : BuildDirector(root, sink);
        sink.ThrowIfAny();
        return config!;
    }

    /// <summary>Reads and validates a real-server config file.</summary>
    /// <exception cref="ConfigException">The file cannot be read or has errors.</exception>
    public static RealServerConfig LoadRealServer(string path) => ParseRealServer(ReadFile(path), path);

    /// <summary>Validates real-server config text; <paramref name="path"/> is used in error messages.</summary>
    /// <exception cref="ConfigException">The text has errors.</exception>
    public static RealServerConfig ParseRealServer(string text, string path)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(path);
        var sink = new ErrorSink(path);
        var root = TomlTree.Parse(text, path, sink.Errors);
        RealServerConfig? config = root is null ? null : BuildRealServer(root, sink);
        sink.ThrowIfAny();
        return config!;
    }

    private static string ReadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string why;
        try
        {
            return File.ReadAllText(path);
        }
        catch (FileNotFoundException) { why = "file not found"; }
        catch (DirectoryNotFoundException) { why = "file not found (its directory does not exist)"; }
        catch (UnauthorizedAccessException) { why = "permission denied (or the path is a directory)"; }
        catch (IOException ex) { why = ex.Message; }
        catch (ArgumentException ex) { why = $"invalid path: {ex.Message}"; }
        catch (NotSupportedException ex) { why = $"invalid path: {ex.Message}"; }
        throw new ConfigException([new ConfigError(path, 0, 0, "", $"cannot read configuration file: {why}")]);
    }

    // ---------------------------------------------------------------- director

    private static DirectorConfig BuildDirector(TTable root, ErrorSink sink)
    {
        var top = new TableReader(sink, root, "", DirectorFileTables, name =>
            DirectorKeys.Contains(name) ? $"did you mean \"director.{name}\"? (put it after the [director] header)"
            : name == "realserver" ? "[realserver] belongs in a real-server config, not a director config"
            : null);

        var settings = new DirectorSettings();
        if (top.Get("director") is { } de)
        {
            if (de.Value is TTable dt)
            {
                var dr = new TableReader(sink, dt, "director", DirectorKeys);
                settings = HealthConfigReader.ReadDirector(dr, ReadDirectorSettings(dr));
            }
            else top.Error(de, $"expected a table ([director] header), got {de.Value.Describe()}");
        }

        var tables = top.TableList("service");
        var services = new List<ServiceConfig>(tables.Count);
        var seen = new Dictionary<(IpAddress, ushort, byte), (int Index, ServiceConfig Service)>();
        for (int i = 0; i < tables.Count; i++)
        {
            var r = new TableReader(sink, tables[i], $"service[{i}]", ServiceKeys);
            var svc = ReadService(r);
            if (svc is null) continue;
            if (seen.TryGetValue((svc.Vip, svc.Port, svc.Protocol), out var first))
            {
                sink.Add(r.Table.Line, r.Table.Column, r.Path,
                    $"duplicate service {svc.ProtocolName} {FormatEndpoint(svc.Vip, svc.Port)}: " +
                    $"already defined at line {first.Service.Line} (service[{first.Index}])");
                continue;
            }
            seen.Add((svc.Vip, svc.Port, svc.Protocol), (i, svc));
            services.Add(svc);
        }
        return new DirectorConfig(settings, services, sink.File);
    }

    private static DirectorSettings ReadDirectorSettings(TableReader r)
    {
        var d = new DirectorSettings();

        string api = d.Api, apiHost = d.ApiHost;
        int apiPort = d.ApiPort;
        if (r.Get("api") is { } apiEntry && r.TryString(apiEntry, out var apiText))
        {
            if (ConfigText.TryParseHostPort(apiText, out var h, out var p, out var err))
            {
                api = apiText; apiHost = h; apiPort = p;
            }
            else r.Error(apiEntry, err);
        }

        string tunName = d.TunName;
        if (r.Get("tun_name") is { } tn && r.TryString(tn, out var tunText))
        {
            if (ConfigText.TryCheckInterfaceName(tunText, out var err)) tunName = tunText;
            else r.Error(tn, err);
        }

        var ioValue = r.OneOf("io", ConfigNames.Io, "io");
        var io = ioValue ?? d.Io;
        // A bad io value is reported once; capture_interfaces is then checked as if it were "afpacket".
        var captureInterfaces = ReadCaptureInterfaces(r, ioValue ?? (r.Get("io") is null ? d.Io : IoBackend.AfPacket));

        return d with
        {
            Io = io,
            CaptureInterfaces = captureInterfaces,
            Api = api,
            ApiHost = apiHost,
            ApiPort = apiPort,
            ApiToken = r.String("api_token") ?? d.ApiToken,
            TunName = tunName,
            TunMtu = r.Int("tun_mtu", MinTunMtu, MaxTunMtu, d.TunMtu),
            Ttl = r.Int("ttl", 1, 255, d.Ttl),
            ConnMax = r.Int("conn_max", 1, MaxConnMax, d.ConnMax),
            ConnFullPolicy = r.OneOf("conn_full_policy", ConnFullPolicies, "conn_full_policy") ?? d.ConnFullPolicy,
            TimeoutTcp = r.Int("timeout_tcp", 1, MaxTimeoutSeconds, d.TimeoutTcp),
            TimeoutTcpFin = r.Int("timeout_tcp_fin", 1, MaxTimeoutSeconds, d.TimeoutTcpFin),
            TimeoutUdp = r.Int("timeout_udp", 1, MaxTimeoutSeconds, d.TimeoutUdp),
            SloppyTcp = r.Bool("sloppy_tcp", d.SloppyTcp),
            ExpireQuiescentTemplate = r.Bool("expire_quiescent_template", d.ExpireQuiescentTemplate),
            RestoreInnerTtl = r.Bool("restore_inner_ttl", d.RestoreInnerTtl),
            AnswerPing = r.Bool("answer_ping", d.AnswerPing),
            IcmpRate = r.Int("icmp_rate", 1, MaxIcmpRate, d.IcmpRate),
            IcmpBurst = r.Int("icmp_burst", 1, MaxIcmpRate, d.IcmpBurst),
            FragMax = r.Int("frag_max", FragmentTableMinimum, MaxFragMax, d.FragMax),
            Tx = r.OneOf("tx", ConfigNames.Tx, "tx") ?? d.Tx,
            PmtuExpires = r.Int("pmtu_expires", 0, MaxTimeoutSeconds, d.PmtuExpires),
            Workers = ReadWorkers(r, d.Workers),
        };
    }

    /// <summary>Largest <c>workers</c> value (the per-worker counter slots of a service or real server).</summary>
    public const int MaxWorkers = TunLB.Core.Model.WorkerStatsSet.MaxWorkers;

    /// <summary><c>workers = N</c> (1..64) or <c>"auto"</c> (0: one per processor).</summary>
    private static int ReadWorkers(TableReader r, int fallback)
    {
        var e = r.Get("workers");
        if (e is null) return fallback;
        if (e.Value is TScalar { Value: string s })
        {
            if (s == "auto") return 0;
            r.Error(e, $"expected an integer 1..{MaxWorkers} or \"auto\", got \"{s}\"");
            return fallback;
        }
        if (e.Value is not TScalar { Value: long })
        {
            r.TypeError(e, $"an integer 1..{MaxWorkers} or \"auto\"");
            return fallback;
        }
        return r.TryInteger(e, 1, MaxWorkers, out var v) ? (int)v : fallback;
    }

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

    private static IReadOnlyList<string> ReadCaptureInterfaces(TableReader r, IoBackend io)
    {
        var e = r.Get("capture_interfaces");
        if (e is null) return [];
        if (e.Value is not TArray arr)
        {
            r.TypeError(e, "an array of interface names, like [\"eth0\"]");
            return [];
        }
        if (io != IoBackend.AfPacket)
        {
            r.Error(e, "capture_interfaces is only used with io = \"afpacket\" (with io = \"tun\" the VIP routes decide)");
            return [];
        }
        if (arr.Items.Count > MaxCaptureInterfaces)
        {
            r.Error(e, $"at most {MaxCaptureInterfaces} capture interfaces, got {arr.Items.Count}");
            return [];
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
        return names;
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

    /// <summary>Validates one [[service.real]]; null if its address is unusable.</summary>
    private static RealConfig? ReadReal(TableReader r, ushort servicePort)
    {
        IpAddress address = default;
        bool ok = r.Required("address") is { } ae && r.TryHostAddress(ae, out address);
        int port = r.Int("port", 0, 65535, servicePort);
        int weight = r.Int("weight", 0, 65535, 1);
        int upper = r.Int("upper_threshold", 0, int.MaxValue, 0);
        int lower = r.Int("lower_threshold", 0, int.MaxValue, 0);
        if (upper > 0 && lower > upper)
            r.Error(r.Get("lower_threshold")!, $"lower_threshold {lower} is above upper_threshold {upper}");
        int mtu = 0;
        if (r.Get("mtu") is { } me && r.TryInteger(me, 0, MaxMtu, out var mv))
        {
            int min = ok && !address.IsV4 ? MinMtuV6 : MinMtu;
            if (mv != 0 && mv < min)
                r.Error(me, $"mtu {mv} is too small; use 0 (from the route) or {min}..{MaxMtu}" +
                            (min == MinMtuV6 ? " (IPv6 links carry at least 1280 bytes)" : ""));
            else mtu = (int)mv;
        }
        var encap = r.OneOf("encap", ConfigNames.Encap, "encapsulation") ?? EncapKind.Ipip;
        int guePort = r.Int("gue_port", 1, 65535, Tunnel.DefaultGuePort);
        bool gueChecksum = r.Bool("gue_checksum", false);
        if (encap != EncapKind.Gue)
        {
            if (r.Get("gue_port") is { } gp) r.Error(gp, "gue_port only applies with encap = \"gue\"");
            if (r.Get("gue_checksum") is { } gc) r.Error(gc, "gue_checksum only applies with encap = \"gue\"");
        }
        if (!ok) return null;
        return new RealConfig
        {
            Address = address,
            Port = (ushort)port,
            Weight = weight,
            UpperThreshold = upper,
            LowerThreshold = lower,
            Mtu = mtu,
            Encap = encap,
            GuePort = guePort,
            GueChecksum = gueChecksum,
            Line = r.Table.Line,
        };
    }

    // ---------------------------------------------------------------- real server

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
        return HealthConfigReader.ReadRealServer(r, new RealServerConfig(vips.Select(v => v.Address).ToList(), directors.Select(d => d.Address).ToList(),
            tunName, sink.File)
        {
            Gue = gue,
            GuePort = guePort,
            MssClamp = mss,
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

    private static string FormatEndpoint(IpAddress a, int port) => a.IsV4 ? $"{a}:{port}" : $"[{a}]:{port}";
}
