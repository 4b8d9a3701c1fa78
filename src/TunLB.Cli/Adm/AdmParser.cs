using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TunLB.Cli.Adm;

/// <summary>
/// ipvsadm's command-line syntax, parsed without side effects. Short options may be bundled
/// (<c>-Ln</c>), long options take <c>--opt value</c> or <c>--opt=value</c>, and the command may appear
/// anywhere on the line (ipvsadm wants it first; being lenient here breaks no script).
/// Checks follow ipvsadm's table of legal command/option combinations and its error texts.
/// </summary>
public static class AdmParser
{
    /// <summary>ipvsadm's limit for timeouts: 31 days.</summary>
    public const int MaxTimeout = 86400 * 31;
    /// <summary>ipvsadm's IPVS_SVC_PERSISTENT_TIMEOUT (used when -p has no value).</summary>
    public const int DefaultPersistence = 300;

    public const string NotTunnelMessage =
        "TunLB forwards by tunnel only (LVS-TUN); -g and -m are not supported; use -i";

    private enum ArgKind { None, Required, Optional }

    private sealed record OptDef(string Key, string? Long, char Short, ArgKind Arg);

    private static readonly OptDef[] Defs =
    [
        new("A", "add-service", 'A', ArgKind.None),
        new("E", "edit-service", 'E', ArgKind.None),
        new("D", "delete-service", 'D', ArgKind.None),
        new("C", "clear", 'C', ArgKind.None),
        new("L", "list", 'L', ArgKind.None),
        new("L", null, 'l', ArgKind.None),
        new("Z", "zero", 'Z', ArgKind.None),
        new("a", "add-server", 'a', ArgKind.None),
        new("e", "edit-server", 'e', ArgKind.None),
        new("d", "delete-server", 'd', ArgKind.None),
        new("set", "set", '\0', ArgKind.None),
        new("h", "help", 'h', ArgKind.None),
        new("v", "version", 'v', ArgKind.None),
        new("R", "restore", 'R', ArgKind.None),
        new("S", "save", 'S', ArgKind.None),
        new("start-daemon", "start-daemon", '\0', ArgKind.Required),
        new("stop-daemon", "stop-daemon", '\0', ArgKind.Required),
        new("t", "tcp-service", 't', ArgKind.Required),
        new("u", "udp-service", 'u', ArgKind.Required),
        new("sctp-service", "sctp-service", '\0', ArgKind.Required),
        new("f", "fwmark-service", 'f', ArgKind.Required),
        new("s", "scheduler", 's', ArgKind.Required),
        new("p", "persistent", 'p', ArgKind.Optional),
        new("M", "netmask", 'M', ArgKind.Required),
        new("r", "real-server", 'r', ArgKind.Required),
        new("m", "masquerading", 'm', ArgKind.None),
        new("i", "ipip", 'i', ArgKind.None),
        new("g", "gatewaying", 'g', ArgKind.None),
        new("w", "weight", 'w', ArgKind.Required),
        new("x", "u-threshold", 'x', ArgKind.Required),
        new("y", "l-threshold", 'y', ArgKind.Required),
        new("n", "numeric", 'n', ArgKind.None),
        new("c", "connection", 'c', ArgKind.None),
        new("mcast-interface", "mcast-interface", '\0', ArgKind.Required),
        new("syncid", "syncid", '\0', ArgKind.Required),
        new("timeout", "timeout", '\0', ArgKind.None),
        new("daemon", "daemon", '\0', ArgKind.None),
        new("stats", "stats", '\0', ArgKind.None),
        new("rate", "rate", '\0', ArgKind.None),
        new("thresholds", "thresholds", '\0', ArgKind.None),
        new("persistent-conn", "persistent-conn", '\0', ArgKind.None),
        new("nosort", "nosort", '\0', ArgKind.None),
        new("sort", "sort", '\0', ArgKind.None),
        new("X", "exact", 'X', ArgKind.None),
        new("6", "ipv6", '6', ArgKind.None),
        new("o", "ops", 'o', ArgKind.None),
        new("pe", "pe", '\0', ArgKind.Required),
        new("b", "sched-flags", 'b', ArgKind.Required),
        new("mcast-group", "mcast-group", '\0', ArgKind.Required),
        new("mcast-port", "mcast-port", '\0', ArgKind.Required),
        new("mcast-ttl", "mcast-ttl", '\0', ArgKind.Required),
        new("sync-maxlen", "sync-maxlen", '\0', ArgKind.Required),
        new("tun-info", "tun-info", '\0', ArgKind.None),
        new("tun-type", "tun-type", '\0', ArgKind.Required),
        new("tun-port", "tun-port", '\0', ArgKind.Required),
        new("tun-nocsum", "tun-nocsum", '\0', ArgKind.None),
        new("tun-csum", "tun-csum", '\0', ArgKind.None),
        new("tun-remcsum", "tun-remcsum", '\0', ArgKind.None),
        // TunLB additions
        new("api", "api", '\0', ArgKind.Required),
        new("token", "token", '\0', ArgKind.Required),
        new("drain", "drain", '\0', ArgKind.None),
        new("undrain", "undrain", '\0', ArgKind.None),
    ];

    // ipvsadm's option classes, in its order (the order decides which error is reported first).
    private enum Opt
    {
        Numeric, Connection, Service, Scheduler, Persistent, Netmask, Server, Forward, Weight,
        UThreshold, LThreshold, Timeout, Daemon, Stats, Rate, Thresholds, PersistentConn, NoSort,
        Exact, SchedFlags, TunInfo, TunType, TunPort, TunNoCsum, TunCsum, TunRemCsum,
    }

    private static readonly Dictionary<Opt, string> OptNames = new()
    {
        [Opt.Numeric] = "numeric", [Opt.Connection] = "connection", [Opt.Service] = "service-address",
        [Opt.Scheduler] = "scheduler", [Opt.Persistent] = "persistent", [Opt.Netmask] = "netmask",
        [Opt.Server] = "real-server", [Opt.Forward] = "forwarding-method", [Opt.Weight] = "weight",
        [Opt.UThreshold] = "u-threshold", [Opt.LThreshold] = "l-threshold", [Opt.Timeout] = "timeout",
        [Opt.Daemon] = "daemon", [Opt.Stats] = "stats", [Opt.Rate] = "rate", [Opt.Thresholds] = "thresholds",
        [Opt.PersistentConn] = "persistent-conn", [Opt.NoSort] = "nosort", [Opt.Exact] = "exact",
        [Opt.SchedFlags] = "sched-flags", [Opt.TunInfo] = "tun-info", [Opt.TunType] = "tun-type",
        [Opt.TunPort] = "tun-port", [Opt.TunNoCsum] = "tun-nocsum", [Opt.TunCsum] = "tun-csum",
        [Opt.TunRemCsum] = "tun-remcsum",
    };

    private static readonly Dictionary<AdmCommandKind, string> CommandNames = new()
    {
        [AdmCommandKind.AddService] = "add-service", [AdmCommandKind.EditService] = "edit-service",
        [AdmCommandKind.DeleteService] = "delete-service", [AdmCommandKind.Clear] = "flush",
        [AdmCommandKind.List] = "list", [AdmCommandKind.AddServer] = "add-server",
        [AdmCommandKind.DeleteServer] = "delete-server", [AdmCommandKind.EditServer] = "edit-server",
        [AdmCommandKind.SetTimeouts] = "set", [AdmCommandKind.Restore] = "restore",
        [AdmCommandKind.Save] = "save", [AdmCommandKind.Zero] = "zero",
    };

    // Legal combinations (ipvsadm's commands_v_options): '+' required, '1' at most one of, ' ' optional;
    // anything not listed is illegal.
    private static readonly Dictionary<AdmCommandKind, Dictionary<Opt, char>> Legal = new()
    {
        [AdmCommandKind.AddService] = ServiceOpts(),
        [AdmCommandKind.EditService] = ServiceOpts(),
        [AdmCommandKind.DeleteService] = new() { [Opt.Service] = '+' },
        [AdmCommandKind.Clear] = new(),
        [AdmCommandKind.List] = new()
        {
            [Opt.Numeric] = ' ', [Opt.Connection] = '1', [Opt.Service] = '1', [Opt.Timeout] = '1', [Opt.Daemon] = '1',
            [Opt.Stats] = ' ', [Opt.Rate] = ' ', [Opt.Thresholds] = ' ', [Opt.PersistentConn] = ' ',
            [Opt.NoSort] = ' ', [Opt.Exact] = ' ', [Opt.TunInfo] = ' ',
        },
        [AdmCommandKind.AddServer] = ServerOpts(),
        [AdmCommandKind.EditServer] = ServerOpts(),
        [AdmCommandKind.DeleteServer] = new() { [Opt.Service] = '+', [Opt.Server] = '+' },
        [AdmCommandKind.SetTimeouts] = new(),
        [AdmCommandKind.Restore] = new(),
        [AdmCommandKind.Save] = new() { [Opt.Numeric] = ' ' },
        [AdmCommandKind.Zero] = new() { [Opt.Service] = ' ' },
    };

    private static Dictionary<Opt, char> ServiceOpts() => new()
    {
        [Opt.Service] = '+', [Opt.Scheduler] = ' ', [Opt.Persistent] = ' ', [Opt.Netmask] = ' ', [Opt.SchedFlags] = ' ',
    };

    private static Dictionary<Opt, char> ServerOpts() => new()
    {
        [Opt.Service] = '+', [Opt.Server] = '+', [Opt.Forward] = ' ', [Opt.Weight] = ' ', [Opt.UThreshold] = ' ',
        [Opt.LThreshold] = ' ', [Opt.TunType] = ' ', [Opt.TunPort] = ' ', [Opt.TunNoCsum] = ' ',
        [Opt.TunCsum] = ' ', [Opt.TunRemCsum] = ' ',
    };

    private sealed class ParseFailure(AdmParseError error) : Exception(error.Message)
    {
        public AdmParseError Error { get; } = error;
    }

    private static ParseFailure Fail(string message) => new(new AdmParseError(message));

    /// <summary>Parses one command line (without the program name).</summary>
    /// <param name="resolveHost">Host name → IPv4 address (ipvsadm resolves names); null = IP literals only.</param>
    /// <param name="resolvePort">(service name, "tcp"/"udp") → port; null = numbers only.</param>
    public static (AdmRequest? Request, AdmParseError? Error) Parse(
        IReadOnlyList<string> args,
        Func<string, IPAddress?>? resolveHost = null,
        Func<string, string, int?>? resolvePort = null)
    {
        try
        {
            return (ParseCore(args, resolveHost, resolvePort), null);
        }
        catch (ParseFailure f)
        {
            return (null, f.Error);
        }
    }

    private static AdmRequest ParseCore(IReadOnlyList<string> args, Func<string, IPAddress?>? resolveHost, Func<string, string, int?>? resolvePort)
    {
        // ipvsadm with no arguments lists the table.
        if (args.Count == 0) return new AdmRequest(AdmCommandKind.List);

        var items = Tokenize(args, out var positional);

        AdmCommandKind? command = null;
        var options = new HashSet<Opt>();
        void SetOption(Opt o)
        {
            if (!options.Add(o)) throw Fail($"multiple '{OptNames[o]}' options specified");
        }
        void SetCommand(AdmCommandKind c)
        {
            if (command is not null) throw Fail("multiple commands specified");
            command = c;
        }

        string? serviceText = null, serviceProto = null, serverText = null, netmaskText = null, schedFlagsText = null;
        string? scheduler = null, tunType = null, tunFlags = null, api = null, token = null;
        int? persistence = null, weight = null, upper = null, lower = null, tunPort = null;
        var format = AdmListFormat.None;
        bool help = false, version = false;
        bool? drain = null;

        foreach (var (def, value, spelled) in items)
        {
            switch (def.Key)
            {
                case "A": SetCommand(AdmCommandKind.AddService); break;
                case "E": SetCommand(AdmCommandKind.EditService); break;
                case "D": SetCommand(AdmCommandKind.DeleteService); break;
                case "C": SetCommand(AdmCommandKind.Clear); break;
                case "L": SetCommand(AdmCommandKind.List); break;
                case "Z": SetCommand(AdmCommandKind.Zero); break;
                case "a": SetCommand(AdmCommandKind.AddServer); break;
                case "e": SetCommand(AdmCommandKind.EditServer); break;
                case "d": SetCommand(AdmCommandKind.DeleteServer); break;
                case "set": SetCommand(AdmCommandKind.SetTimeouts); break;
                case "R": SetCommand(AdmCommandKind.Restore); break;
                case "S": SetCommand(AdmCommandKind.Save); break;
                case "h": help = true; break;
                case "v": version = true; break;
                case "start-daemon":
                case "stop-daemon":
                case "mcast-interface":
                case "syncid":
                case "mcast-group":
                case "mcast-port":
                case "mcast-ttl":
                case "sync-maxlen":
                    throw Fail($"{spelled}: TunLB has no connection synchronisation daemon; this option is not supported");
                case "t":
                case "u":
                    SetOption(Opt.Service);
                    serviceText = value;
                    serviceProto = def.Key == "t" ? "tcp" : "udp";
                    break;
                case "sctp-service":
                    throw Fail("TunLB does not support SCTP services (--sctp-service); use -t or -u");
                case "f":
                    throw Fail("TunLB does not support firewall-mark services (-f); use -t or -u");
                case "s":
                    SetOption(Opt.Scheduler);
                    scheduler = value;
                    break;
                case "p":
                    SetOption(Opt.Persistent);
                    persistence = value is null ? DefaultPersistence : ParseTimeout(value, 1, MaxTimeout);
                    break;
                case "M":
                    SetOption(Opt.Netmask);
                    netmaskText = value;
                    break;
                case "r":
                    SetOption(Opt.Server);
                    serverText = value;
                    break;
                case "i":
                    SetOption(Opt.Forward);
                    break;
                case "g":
                case "m":
                    throw Fail(NotTunnelMessage);
                case "w":
                    SetOption(Opt.Weight);
                    weight = Number(value!, 0, 65535) ?? throw Fail("illegal weight specified");
                    break;
                case "x":
                    SetOption(Opt.UThreshold);
                    upper = Number(value!, 0, int.MaxValue) ?? throw Fail("illegal u_threshold specified");
                    break;
                case "y":
                    SetOption(Opt.LThreshold);
                    lower = Number(value!, 0, int.MaxValue) ?? throw Fail("illegal l_threshold specified");
                    break;
                case "n": SetOption(Opt.Numeric); format |= AdmListFormat.Numeric; break;
                case "c": SetOption(Opt.Connection); break;
                case "timeout": SetOption(Opt.Timeout); break;
                case "daemon": SetOption(Opt.Daemon); break;
                case "stats": SetOption(Opt.Stats); format |= AdmListFormat.Stats; break;
                case "rate": SetOption(Opt.Rate); format |= AdmListFormat.Rate; break;
                case "thresholds": SetOption(Opt.Thresholds); format |= AdmListFormat.Thresholds; break;
                case "persistent-conn": SetOption(Opt.PersistentConn); format |= AdmListFormat.PersistentConn; break;
                case "nosort": SetOption(Opt.NoSort); format |= AdmListFormat.NoSort; break;
                case "sort": break; // ipvsadm: does nothing, for backwards compatibility
                case "X": SetOption(Opt.Exact); format |= AdmListFormat.Exact; break;
                case "6": break; // address family comes from the address itself (ipvsadm needs -6 only for -f)
                case "o":
                    throw Fail("TunLB does not support one-packet scheduling (--ops)");
                case "pe":
                    throw Fail("TunLB does not support persistence engines (--pe)");
                case "b":
                    SetOption(Opt.SchedFlags);
                    schedFlagsText = value;
                    break;
                case "tun-info": SetOption(Opt.TunInfo); format |= AdmListFormat.TunInfo; break;
                case "tun-type":
                    SetOption(Opt.TunType);
                    tunType = value switch
                    {
                        "ipip" => "ipip",
                        "gue" => "gue",
                        "gre" => throw Fail("TunLB supports the tunnel types ipip and gue; gre is not supported"),
                        _ => throw Fail("illegal tunnel type specified"),
                    };
                    break;
                case "tun-port":
                    SetOption(Opt.TunPort);
                    tunPort = Number(value!, 1, 65535) ?? throw Fail("illegal tunnel port specified");
                    break;
                case "tun-nocsum": SetOption(Opt.TunNoCsum); tunFlags = "nocsum"; break;
                case "tun-csum": SetOption(Opt.TunCsum); tunFlags = "csum"; break;
                case "tun-remcsum": SetOption(Opt.TunRemCsum); tunFlags = "remcsum"; break;
                case "api":
                    if (api is not null) throw Fail("multiple 'api' options specified");
                    api = value;
                    break;
                case "token":
                    if (token is not null) throw Fail("multiple 'token' options specified");
                    token = value;
                    break;
                case "drain":
                case "undrain":
                    if (drain is not null) throw Fail("multiple 'drain' options specified");
                    drain = def.Key == "drain";
                    break;
                default:
                    throw Fail($"invalid option `{spelled}'");
            }
        }

        if (help) return new AdmRequest(AdmCommandKind.Help);
        if (version) return new AdmRequest(AdmCommandKind.Version);
        if (command is null) throw new ParseFailure(new AdmParseError("no command specified", TryHelp: true));
        var cmd = command.Value;

        int tcp = 0, tcpFin = 0, udp = 0;
        int pos = 0;
        if (cmd == AdmCommandKind.SetTimeouts)
        {
            if (positional.Count < 3) throw Fail("--set option requires 3 timeout values");
            tcp = ParseTimeout(positional[0], 0, MaxTimeout);
            tcpFin = ParseTimeout(positional[1], 0, MaxTimeout);
            udp = ParseTimeout(positional[2], 0, MaxTimeout);
            pos = 3;
        }
        if (pos < positional.Count) throw Fail($"unexpected argument {positional[pos]}");

        CheckCombinations(cmd, options);
        if (drain is not null && !(cmd == AdmCommandKind.EditServer || (cmd == AdmCommandKind.DeleteServer && drain == true)))
            throw Fail("--drain goes with -e (drain: weight 0 until idle) or -d (drain, then delete when idle); --undrain with -e");

        AdmService? service = null;
        if (serviceText is not null)
        {
            var (addr, port) = ParseAddressPort(serviceText, serviceProto!, resolveHost, resolvePort)
                ?? throw Fail("illegal virtual server address[:port] specified");
            service = new AdmService(serviceProto!, addr, port ?? 0);
        }

        string? netmask = null;
        if (netmaskText is not null)
        {
            if (service is { IsV6: true })
            {
                var prefix = Number(netmaskText, 1, 128) ?? throw Fail("illegal ipv6 netmask specified");
                netmask = prefix.ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                var mask = ParseIPv4(netmaskText) ?? resolveHost?.Invoke(netmaskText)
                    ?? throw Fail("illegal virtual server persistent mask specified");
                netmask = mask.ToString();
            }
        }

        IPAddress? realAddress = null;
        int? realPort = null;
        if (serverText is not null)
        {
            var (addr, port) = ParseAddressPort(serverText, serviceProto ?? "tcp", resolveHost, resolvePort)
                ?? throw Fail("illegal real server address[:port] specified");
            realAddress = addr;
            realPort = port ?? service?.Port ?? 0;
            // ipvsadm: with tunnelling (and direct routing) the real server's port is the service's port.
            if (cmd is AdmCommandKind.AddServer or AdmCommandKind.EditServer && service is not null)
                realPort = service.Port;
        }

        if (cmd is AdmCommandKind.AddService or AdmCommandKind.EditService)
        {
            if (service!.Port == 0 && persistence is null)
                throw Fail("Zero port specified for non-persistent service");
        }

        if (cmd is AdmCommandKind.AddServer or AdmCommandKind.EditServer)
            CheckTunnelOptions(tunType ?? "ipip", options);

        IReadOnlyList<string>? schedFlags = null;
        if (schedFlagsText is not null)
            schedFlags = ParseSchedFlags(scheduler is { Length: > 0 } ? scheduler : "wlc", schedFlagsText);

        if (cmd == AdmCommandKind.List)
        {
            if ((options.Overlaps([Opt.Connection, Opt.Timeout, Opt.Daemon]) && options.Overlaps([Opt.Stats, Opt.Rate, Opt.Thresholds]))
                || (options.Overlaps([Opt.Timeout, Opt.Daemon]) && options.Contains(Opt.PersistentConn)))
                throw Fail("options conflicts in the list command");
        }

        return new AdmRequest(cmd)
        {
            Service = service,
            Scheduler = scheduler,
            SchedFlags = schedFlags,
            Persistence = persistence,
            Netmask = netmask,
            RealAddress = realAddress,
            RealPort = realPort,
            Weight = weight,
            UpperThreshold = upper,
            LowerThreshold = lower,
            TunType = tunType,
            TunPort = tunPort,
            TunFlags = tunFlags,
            Drain = drain,
            Format = format,
            Connections = options.Contains(Opt.Connection),
            ShowTimeouts = options.Contains(Opt.Timeout),
            Daemon = options.Contains(Opt.Daemon),
            TimeoutTcp = tcp,
            TimeoutTcpFin = tcpFin,
            TimeoutUdp = udp,
            Api = api,
            Token = token,
        };
    }

    private static void CheckCombinations(AdmCommandKind cmd, HashSet<Opt> options)
    {
        var legal = Legal[cmd];
        var name = CommandNames[cmd];
        Opt? firstExclusive = null;
        foreach (var o in Enum.GetValues<Opt>())
        {
            legal.TryGetValue(o, out var rule);
            if (!options.Contains(o))
            {
                if (rule == '+') throw Fail($"You need to supply the '{OptNames[o]}' option for the '{name}' command");
                continue;
            }
            if (rule == '\0') throw Fail($"Illegal '{OptNames[o]}' option with the '{name}' command");
            if (rule == '1')
            {
                if (firstExclusive is { } first)
                    throw Fail($"The option '{OptNames[o]}' conflicts with the '{OptNames[first]}' option in the '{name}' command");
                firstExclusive = o;
            }
        }
    }

    // ipvsadm's tunnel_types_v_options: ipip takes none of the tunnel options; gue needs --tun-port and
    // at most one checksum option.
    private static void CheckTunnelOptions(string tunType, HashSet<Opt> options)
    {
        Opt[] tunOpts = [Opt.TunPort, Opt.TunNoCsum, Opt.TunCsum, Opt.TunRemCsum];
        Opt? firstExclusive = null;
        foreach (var o in tunOpts)
        {
            bool given = options.Contains(o);
            if (tunType == "ipip")
            {
                if (given) throw Fail($"Illegal '{OptNames[o]}' option with the 'ipip' tunnel type");
                continue;
            }
            // gue
            if (o == Opt.TunPort)
            {
                if (!given) throw Fail("You need to supply the 'tun-port' option for the 'gue' tunnel type");
                continue;
            }
            if (!given) continue;
            if (firstExclusive is { } first)
                throw Fail($"The option '{OptNames[o]}' conflicts with the '{OptNames[first]}' option in the 'gue' tunnel type");
            firstExclusive = o;
        }
    }

    private static IReadOnlyList<string> ParseSchedFlags(string scheduler, string text)
    {
        var flags = new List<string>();
        foreach (var flag in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string? needs = flag switch
            {
                "flag-1" or "flag-2" or "flag-3" => null,
                "sh-fallback" or "sh-port" => "sh",
                "mh-fallback" or "mh-port" => "mh",
                _ => throw Fail($"invalid scheduler flag `{flag}'"),
            };
            if (needs is not null && needs != scheduler) throw Fail($"incompatible scheduler flag `{flag}'");
            if (!flags.Contains(flag)) flags.Add(flag);
        }
        if (flags.Count == 0) throw Fail($"invalid scheduler flag `{text}'");
        return flags;
    }

    private static int ParseTimeout(string text, int min, int max) =>
        Number(text, min, max) ?? throw Fail($"invalid timeout value `{text}' specified");

    /// <summary>strtol-like: whole string a decimal number within [min, max], else null.</summary>
    internal static int? Number(string text, int min, int max)
    {
        if (text.Length == 0) return null;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowLeadingWhite, CultureInfo.InvariantCulture, out var n))
            return null;
        return n >= min && n <= max ? (int)n : null;
    }

    private static IPAddress? ParseIPv4(string text) =>
        IPAddress.TryParse(text, out var a) && a.AddressFamily == AddressFamily.InterNetwork && !text.Contains(':') ? a : null;

    /// <summary>
    /// ipvsadm's parse_service: <c>host[:port]</c>, <c>[v6]:port</c> or a bare IPv6 literal.
    /// Returns null when it isn't one. Port null = not given.
    /// </summary>
    internal static (IPAddress Address, int? Port)? ParseAddressPort(
        string text, string protocol, Func<string, IPAddress?>? resolveHost, Func<string, string, int?>? resolvePort)
    {
        if (text.Length == 0 || text.All(char.IsAsciiDigit)) return null;
        string host;
        string? portText = null;
        if (text[0] == '[')
        {
            int close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') return null;
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6) return null;
            var p6 = ParsePort(portText, protocol, resolvePort);
            return p6 is null ? null : (v6, p6);
        }
        if (text.Contains(':') && IPAddress.TryParse(text, out var bare) && bare.AddressFamily == AddressFamily.InterNetworkV6)
            return (bare, null);

        int colon = text.LastIndexOf(':');
        if (colon >= 0)
        {
            host = text[..colon];
            portText = text[(colon + 1)..];
        }
        else host = text;

        var addr = ParseIPv4(host) ?? (host.Length > 0 ? resolveHost?.Invoke(host) : null);
        if (addr is null) return null;
        if (portText is null) return (addr, null);
        var port = ParsePort(portText, protocol, resolvePort);
        return port is null ? null : (addr, port);
    }

    private static int? ParsePort(string text, string protocol, Func<string, string, int?>? resolvePort) =>
        Number(text, 0, 65535) ?? (text.Length > 0 ? resolvePort?.Invoke(text, protocol) : null);

    private static List<(OptDef Def, string? Value, string Spelled)> Tokenize(IReadOnlyList<string> args, out List<string> positional)
    {
        var items = new List<(OptDef, string?, string)>();
        positional = [];
        for (int i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                positional.AddRange(args.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal))
            {
                var body = a[2..];
                string? inline = null;
                int eq = body.IndexOf('=');
                if (eq >= 0) { inline = body[(eq + 1)..]; body = body[..eq]; }
                var def = Defs.FirstOrDefault(d => d.Long == body)
                    ?? throw new ParseFailure(new AdmParseError($"{a}: unknown option", TryHelp: true));
                string? value = null;
                switch (def.Arg)
                {
                    case ArgKind.None:
                        if (inline is not null)
                            throw new ParseFailure(new AdmParseError($"{a}: option does not take an argument", TryHelp: true));
                        break;
                    case ArgKind.Required:
                        if (inline is not null) value = inline;
                        else if (i + 1 < args.Count) value = args[++i];
                        else throw new ParseFailure(new AdmParseError($"--{body}: missing argument", TryHelp: true));
                        break;
                    case ArgKind.Optional:
                        if (inline is not null) value = inline;
                        else if (i + 1 < args.Count && !args[i + 1].StartsWith('-')) value = args[++i];
                        break;
                }
                items.Add((def, value, "--" + body));
                continue;
            }
            if (a.Length > 1 && a[0] == '-')
            {
                for (int j = 1; j < a.Length; j++)
                {
                    char c = a[j];
                    var def = Defs.FirstOrDefault(d => d.Short == c && c != '\0')
                        ?? throw new ParseFailure(new AdmParseError($"-{c}: unknown option", TryHelp: true));
                    string? value = null;
                    var rest = a[(j + 1)..];
                    if (def.Arg == ArgKind.Required)
                    {
                        if (rest.Length > 0) value = rest;
                        else if (i + 1 < args.Count) value = args[++i];
                        else throw new ParseFailure(new AdmParseError($"-{c}: missing argument", TryHelp: true));
                        items.Add((def, value, "-" + c));
                        break;
                    }
                    if (def.Arg == ArgKind.Optional)
                    {
                        if (rest.Length > 0) value = rest;
                        else if (i + 1 < args.Count && !args[i + 1].StartsWith('-')) value = args[++i];
                        items.Add((def, value, "-" + c));
                        break;
                    }
                    items.Add((def, null, "-" + c));
                }
                continue;
            }
            positional.Add(a);
        }
        return items;
    }
}
