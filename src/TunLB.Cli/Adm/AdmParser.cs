using System.Globalization;
using System.Net;
using TunLB.Control.Configuration;
using static TunLB.Cli.Adm.AdmChecks;
using static TunLB.Cli.Adm.AdmOptions;
using static TunLB.Cli.Adm.AdmText;

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

    internal sealed class ParseFailure(AdmParseError error) : Exception(error.Message)
    {
        public AdmParseError Error { get; } = error;
    }

    internal static ParseFailure Fail(string message) => new(new AdmParseError(message));

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

        var items = AdmTokenizer.Tokenize(args, out var positional);

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
        int? persistence = null;
        long? weight = null, upper = null, lower = null, tunPort = null;
        var format = AdmListFormat.None;
        bool help = false, version = false;
        bool? drain = null;
        string? check = null, caCert = null;
        bool noCheck = false, insecure = false;

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
                case "drain-director": SetCommand(AdmCommandKind.DrainDirector); break;
                case "undrain-director": SetCommand(AdmCommandKind.UndrainDirector); break;
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
                    scheduler = CheckScheduler(value!);
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
                    weight = Integer(value!) ?? throw Fail(IllegalWeight);
                    break;
                case "x":
                    SetOption(Opt.UThreshold);
                    upper = Integer(value!) ?? throw Fail(IllegalUpper);
                    break;
                case "y":
                    SetOption(Opt.LThreshold);
                    lower = Integer(value!) ?? throw Fail(IllegalLower);
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
                    if (value == "gre") throw Fail("TunLB supports the tunnel types ipip and gue; gre is not supported");
                    tunType = ConfigNames.Encap.TryParse(value, out _) ? value : throw Fail(IllegalTunType);
                    break;
                case "tun-port":
                    SetOption(Opt.TunPort);
                    tunPort = Integer(value!) ?? throw Fail(IllegalTunPort);
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
                case "cacert":
                    if (caCert is not null) throw Fail("multiple 'cacert' options specified");
                    caCert = value;
                    break;
                case "insecure":
                    insecure = true;
                    break;
                case "drain":
                case "undrain":
                    if (drain is not null) throw Fail("multiple 'drain' options specified");
                    drain = def.Key == "drain";
                    break;
                case "check":
                    if (check is not null || noCheck) throw Fail("multiple 'check' options specified");
                    check = value;
                    break;
                case "no-check":
                    if (check is not null || noCheck) throw Fail("multiple 'check' options specified");
                    noCheck = true;
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
        if ((check is not null || noCheck) && cmd is not (AdmCommandKind.AddService or AdmCommandKind.EditService or AdmCommandKind.AddServer or AdmCommandKind.EditServer))
            throw Fail("--check and --no-check go with -A/-E (the service's check) or -a/-e (the real server's own check)");
        if (check is not null && AdmCheck.Problem(check, serviceProto ?? "tcp") is { } bad) throw Fail($"--check: {bad}");

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
                // IPVS takes any mask; the director takes contiguous ones only: refuse here, not at the API.
                if (!ConfigText.TryParseIp(netmask, out var m, out _) || ConfigText.PrefixLength(m) < 0)
                    throw Fail($"persistent mask {netmask} is not contiguous (its one bits must all come first, like 255.255.255.0)");
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
        {
            CheckTunnelOptions(tunType ?? "ipip", options);
            CheckReal(new RealServerFields
            {
                Address = realAddress!.ToString(),
                Port = realPort,
                Weight = weight,
                UpperThreshold = upper,
                LowerThreshold = lower,
                Encap = tunType,
                GuePort = tunPort,
                GueChecksum = tunFlags is null ? null : tunFlags == "csum",
            }, service!.Port);
        }

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
            // In int range: CheckReal passed them (they go with -a/-e only).
            Weight = (int?)weight,
            UpperThreshold = (int?)upper,
            LowerThreshold = (int?)lower,
            TunType = tunType,
            TunPort = (int?)tunPort,
            TunFlags = tunFlags,
            Drain = drain,
            Check = check,
            NoCheck = noCheck,
            Format = format,
            Connections = options.Contains(Opt.Connection),
            ShowTimeouts = options.Contains(Opt.Timeout),
            Daemon = options.Contains(Opt.Daemon),
            TimeoutTcp = tcp,
            TimeoutTcpFin = tcpFin,
            TimeoutUdp = udp,
            Api = api,
            Token = token,
            CaCert = caCert,
            Insecure = insecure,
        };
    }

    private const string IllegalWeight = "illegal weight specified", IllegalUpper = "illegal u_threshold specified",
        IllegalLower = "illegal l_threshold specified", IllegalTunType = "illegal tunnel type specified",
        IllegalTunPort = "illegal tunnel port specified", IllegalReal = "illegal real server address[:port] specified";

    /// <summary>
    /// The real server by TunLB's rules (<see cref="RealServerRules"/>), reported as ipvsadm would: its own text for a
    /// bad value, the rule's text for values that do not go together.
    /// </summary>
    private static void CheckReal(RealServerFields fields, int servicePort)
    {
        var names = RealServerFieldNames.Api;
        var check = RealServerRules.Check(fields, (ushort)servicePort, names);
        if (check.Errors.Count == 0) return;
        var e = check.Errors[0];
        if (e.ConflictsWith is not null) throw Fail(e.Message);
        throw Fail(e.Field == names.Address ? IllegalReal
            : e.Field == names.Weight ? IllegalWeight
            : e.Field == names.UpperThreshold ? IllegalUpper
            : e.Field == names.LowerThreshold ? IllegalLower
            : e.Field == names.Encap ? IllegalTunType
            : e.Field == names.GuePort ? IllegalTunPort
            : e.Message);
    }

    private static int ParseTimeout(string text, int min, int max) =>
        Number(text, min, max) ?? throw Fail($"invalid timeout value `{text}' specified");

}
