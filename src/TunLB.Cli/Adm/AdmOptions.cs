namespace TunLB.Cli.Adm;

/// <summary>ipvsadm's options, their classes and its table of legal command/option combinations.</summary>
internal static class AdmOptions
{
    internal enum ArgKind { None, Required, Optional }

    internal sealed record OptDef(string Key, string? Long, char Short, ArgKind Arg);

    public static readonly OptDef[] Defs =
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
        new("cacert", "cacert", '\0', ArgKind.Required),
        new("insecure", "insecure", 'k', ArgKind.None),
        new("drain", "drain", '\0', ArgKind.None),
        new("undrain", "undrain", '\0', ArgKind.None),
        new("drain-director", "drain-director", '\0', ArgKind.None),
        new("undrain-director", "undrain-director", '\0', ArgKind.None),
        new("check", "check", '\0', ArgKind.Required),
        new("no-check", "no-check", '\0', ArgKind.None),
    ];

    // ipvsadm's option classes, in its order (the order decides which error is reported first).
    internal enum Opt
    {
        Numeric, Connection, Service, Scheduler, Persistent, Netmask, Server, Forward, Weight,
        UThreshold, LThreshold, Timeout, Daemon, Stats, Rate, Thresholds, PersistentConn, NoSort,
        Exact, SchedFlags, TunInfo, TunType, TunPort, TunNoCsum, TunCsum, TunRemCsum,
    }

    public static readonly Dictionary<Opt, string> OptNames = new()
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

    public static readonly Dictionary<AdmCommandKind, string> CommandNames = new()
    {
        [AdmCommandKind.AddService] = "add-service", [AdmCommandKind.EditService] = "edit-service",
        [AdmCommandKind.DeleteService] = "delete-service", [AdmCommandKind.Clear] = "flush",
        [AdmCommandKind.List] = "list", [AdmCommandKind.AddServer] = "add-server",
        [AdmCommandKind.DeleteServer] = "delete-server", [AdmCommandKind.EditServer] = "edit-server",
        [AdmCommandKind.SetTimeouts] = "set", [AdmCommandKind.Restore] = "restore",
        [AdmCommandKind.Save] = "save", [AdmCommandKind.Zero] = "zero",
        [AdmCommandKind.DrainDirector] = "drain-director", [AdmCommandKind.UndrainDirector] = "undrain-director",
    };

    // Legal combinations (ipvsadm's commands_v_options): '+' required, '1' at most one of, ' ' optional;
    // anything not listed is illegal.
    public static readonly Dictionary<AdmCommandKind, Dictionary<Opt, char>> Legal = new()
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
        [AdmCommandKind.DrainDirector] = new(),
        [AdmCommandKind.UndrainDirector] = new(),
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
}
