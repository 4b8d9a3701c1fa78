using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using TunLB.Core.Flows;

namespace TunLB.Linux;

/// <summary>An `ip` (iproute2) command that failed; the message carries its stderr.</summary>
public sealed class HostNetworkException : Exception
{
    public HostNetworkException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// Control-plane changes to the host's (or a named network namespace's) links, addresses, routes and sysctls, made
/// with iproute2's `ip` and /proc/sys. Every change is recorded; <see cref="Undo"/> (and <see cref="Dispose"/>) restore
/// previous sysctl values, link state and MTU, and remove what was added, in reverse order. Undo is idempotent.
/// Not for the hot path: it allocates, starts processes and throws. The undo list is thread-safe (a director changes VIP
/// routes from the API thread); two threads changing the same setting at once is the caller's business.
/// </summary>
public sealed class HostNetwork : IDisposable
{
    // Key: set for changes a later call can take back (a route or proxy entry added here and removed again).
    // Command: the revert as a command line for the crash journal (HostJournal), or null when it cannot be replayed.
    private readonly List<(string What, Action Revert, string? Key, string[]? Command)> _undo = new();
    private readonly Action<string>? _log;

    /// <param name="netns">A namespace name under /var/run/netns to work in (`ip -n`, setns for sysctls), or null for
    /// the namespace of this process.</param>
    /// <param name="log">Receives one line per change and per undo failure during <see cref="Dispose"/>.</param>
    public HostNetwork(string? netns = null, Action<string>? log = null)
    {
        Netns = netns;
        _log = log;
    }

    public string? Netns { get; }

    /// <summary>
    /// Where the pending undo steps are kept while the process runs (rewritten at every change, deleted after
    /// <see cref="Undo"/>), so a start after a crash can undo them (<see cref="HostJournal.Recover"/>).
    /// </summary>
    public HostJournal? Journal { get; set; }

    /// <summary>Descriptions of the changes that <see cref="Undo"/> would revert, oldest first.</summary>
    public IReadOnlyList<string> PendingUndo { get { lock (_undo) return _undo.Select(u => u.What).ToArray(); } }

    // ---- links ----

    /// <summary>Sets <paramref name="device"/> up, optionally with an MTU; undo restores the previous MTU and down state.</summary>
    public void SetLinkUp(string device, int? mtu = null)
    {
        var (wasUp, oldMtu) = GetLink(device);
        if (mtu is int m && m != oldMtu)
        {
            RunIp("link", "set", "dev", device, "mtu", m.ToString(CultureInfo.InvariantCulture));
            string[] back = ["link", "set", "dev", device, "mtu", oldMtu.ToString(CultureInfo.InvariantCulture)];
            Record($"mtu {device} {m} (was {oldMtu})", () => RunIp(back), command: IpCommand(back));
        }
        if (!wasUp)
        {
            RunIp("link", "set", "dev", device, "up");
            Record($"link {device} up", () => RunIp("link", "set", "dev", device, "down"), command: IpCommand("link", "set", "dev", device, "down"));
        }
    }

    /// <summary>Sets <paramref name="device"/> down; undo sets it up again if it was up.</summary>
    public void SetLinkDown(string device)
    {
        var (wasUp, _) = GetLink(device);
        if (!wasUp) return;
        RunIp("link", "set", "dev", device, "down");
        Record($"link {device} down", () => RunIp("link", "set", "dev", device, "up"), command: IpCommand("link", "set", "dev", device, "up"));
    }

    /// <summary>Whether the link is administratively up, and its MTU (`ip -j link show`).</summary>
    public (bool Up, int Mtu) GetLink(string device)
    {
        string json = RunIp("-j", "link", "show", "dev", device);
        using var doc = JsonDocument.Parse(json);
        var link = doc.RootElement[0];
        bool up = link.TryGetProperty("flags", out var flags) && flags.EnumerateArray().Any(f => f.GetString() == "UP");
        return (up, link.GetProperty("mtu").GetInt32());
    }

    // ---- addresses ----

    /// <summary>`ip addr add A/len dev D`; undo deletes it. Fails if the address is already there.</summary>
    public void AddAddress(string device, IpAddress address, int prefixLength)
    {
        string cidr = Cidr(address, prefixLength);
        RunIp("addr", "add", cidr, "dev", device);
        Record($"address {cidr} on {device}", () => RunIp("addr", "del", cidr, "dev", device), command: IpCommand("addr", "del", cidr, "dev", device));
    }

    /// <summary>`ip addr del A/len dev D`; undo adds it back.</summary>
    public void RemoveAddress(string device, IpAddress address, int prefixLength)
    {
        string cidr = Cidr(address, prefixLength);
        RunIp("addr", "del", cidr, "dev", device);
        Record($"removal of address {cidr} from {device}", () => RunIp("addr", "add", cidr, "dev", device), command: IpCommand("addr", "add", cidr, "dev", device));
    }

    /// <summary>Every IPv4/IPv6 address in the namespace, from `ip -j addr show`.</summary>
    public IReadOnlyList<InterfaceAddress> Addresses() => InterfaceAddress.ParseIpJson(RunIp("-j", "addr", "show"));

    /// <summary>Calls <paramref name="changed"/> after each address change in the namespace (`ip monitor address`) until disposed.</summary>
    public IDisposable WatchAddresses(Action changed) => ExternalTool.Watch("ip", Ip("-o", "monitor", "address"), _ => changed());

    // ---- routes ----

    /// <summary>
    /// `ip route add D/len dev X` (e.g. a VIP/32 into a TUN device), or `ip route replace` with <paramref name="replace"/>
    /// (no error when the route exists); undo deletes it (once, however often it was added).
    /// </summary>
    public void AddRoute(IpAddress destination, int prefixLength, string device, bool replace = false)
    {
        string cidr = Cidr(destination, prefixLength);
        RunIp("route", replace ? "replace" : "add", cidr, "dev", device);
        Record($"route {cidr} dev {device}", () => RunIp("route", "del", cidr, "dev", device), RouteKey(cidr, device),
            IpCommand("route", "del", cidr, "dev", device));
    }

    /// <summary>
    /// `ip route del D/len dev X`. A route added through <see cref="AddRoute"/> is then forgotten (nothing left to undo);
    /// any other route is added back by undo.
    /// </summary>
    public void RemoveRoute(IpAddress destination, int prefixLength, string device)
    {
        string cidr = Cidr(destination, prefixLength);
        RunIp("route", "del", cidr, "dev", device);
        if (!Forget(RouteKey(cidr, device)))
            Record($"removal of route {cidr} dev {device}", () => RunIp("route", "add", cidr, "dev", device), command: IpCommand("route", "add", cidr, "dev", device));
    }

    /// <summary>
    /// `ip route replace D/len dev X table T` (a route for a routing daemon to learn, in a table the host does not route
    /// with); undo deletes it.
    /// </summary>
    public void AddTableRoute(IpAddress destination, int prefixLength, string device, int table)
    {
        string cidr = Cidr(destination, prefixLength), t = table.ToString(CultureInfo.InvariantCulture);
        RunIp("route", "replace", cidr, "dev", device, "table", t);
        Record($"route {cidr} dev {device} table {t}", () => RunIp("route", "del", cidr, "dev", device, "table", t), RouteKey(cidr, device, t),
            IpCommand("route", "del", cidr, "dev", device, "table", t));
    }

    /// <summary>`ip route del D/len dev X table T` for a route added with <see cref="AddTableRoute"/>, which is then forgotten.</summary>
    public void RemoveTableRoute(IpAddress destination, int prefixLength, string device, int table)
    {
        string cidr = Cidr(destination, prefixLength), t = table.ToString(CultureInfo.InvariantCulture);
        RunIp("route", "del", cidr, "dev", device, "table", t);
        Forget(RouteKey(cidr, device, t));
    }

    /// <summary>`ip route replace default dev X table T` for one family; undo deletes it.</summary>
    public void AddDefaultRoute(bool ipv6, string device, int table)
    {
        string f = ipv6 ? "-6" : "-4", t = table.ToString(CultureInfo.InvariantCulture);
        RunIp(f, "route", "replace", "default", "dev", device, "table", t);
        Record($"route {f} default dev {device} table {t}", () => RunIp(f, "route", "del", "default", "dev", device, "table", t),
            command: IpCommand(f, "route", "del", "default", "dev", device, "table", t));
    }

    // ---- policy routing rules ----

    /// <summary>
    /// Puts `fwmark M/M lookup T` right before the family's `lookup local` rule, at the same priority, so marked packets
    /// to a local address are routed by table T rather than delivered locally; undo deletes it. Rules of the same priority
    /// are kept in insertion order, so the local rule is deleted and added again behind ours, with a copy one priority
    /// later while it is away (local delivery never stops). Rules left by a director that died are deleted first.
    /// </summary>
    /// <returns>The priority of both rules.</returns>
    public int AddMarkRuleBeforeLocal(bool ipv6, uint mark, int table)
    {
        string f = ipv6 ? "-6" : "-4";
        string m = $"0x{mark:x}/0x{mark:x}", t = table.ToString(CultureInfo.InvariantCulture);
        for (int i = 0; i < 16 && ExternalTool.Run("ip", Ip(f, "rule", "del", "fwmark", m, "lookup", t)).ExitCode == 0; i++) { }
        int? local = LocalRulePriority(f);
        string pref = (local ?? 0).ToString(CultureInfo.InvariantCulture);
        RunIp(f, "rule", "add", "pref", pref, "fwmark", m, "lookup", t);
        Record($"rule {f} pref {pref} fwmark {m} lookup {t}", () => RunIp(f, "rule", "del", "pref", pref, "fwmark", m, "lookup", t),
            command: IpCommand(f, "rule", "del", "pref", pref, "fwmark", m, "lookup", t));
        if (local is int l)
        {
            string bridge = (l + 1).ToString(CultureInfo.InvariantCulture);
            RunIp(f, "rule", "add", "pref", bridge, "lookup", "local");
            try
            {
                RunIp(f, "rule", "del", "pref", pref, "lookup", "local");
                RunIp(f, "rule", "add", "pref", pref, "lookup", "local");
            }
            finally { RunIp(f, "rule", "del", "pref", bridge, "lookup", "local"); }
        }
        return local ?? 0;
    }

    /// <summary>The priority of the family's first `lookup local` rule, or null.</summary>
    private int? LocalRulePriority(string family)
    {
        using var doc = JsonDocument.Parse(RunIp("-j", family, "rule", "show"));
        foreach (var r in doc.RootElement.EnumerateArray())
            if (r.TryGetProperty("table", out var table) && table.GetString() == "local")
                return r.TryGetProperty("priority", out var p) ? p.GetInt32() : 0;
        return null;
    }

    // ---- neighbours ----

    /// <summary>`ip neigh replace proxy A dev D`: answer ARP/ND for <paramref name="address"/> on that device; undo deletes it.</summary>
    public void AddProxyNeighbour(IpAddress address, string device)
    {
        string a = address.ToString();
        RunIp("neigh", "replace", "proxy", a, "dev", device);
        Record($"proxy neighbour {a} dev {device}", () => RunIp("neigh", "del", "proxy", a, "dev", device), ProxyKey(a, device),
            IpCommand("neigh", "del", "proxy", a, "dev", device));
    }

    /// <summary>`ip neigh del proxy A dev D` for an entry added with <see cref="AddProxyNeighbour"/>, which is then forgotten.</summary>
    public void RemoveProxyNeighbour(IpAddress address, string device)
    {
        string a = address.ToString();
        RunIp("neigh", "del", "proxy", a, "dev", device);
        Forget(ProxyKey(a, device));
    }

    private static string RouteKey(string cidr, string device) => $"route {cidr} dev {device}";
    private static string RouteKey(string cidr, string device, string table) => $"route {cidr} dev {device} table {table}";
    private static string ProxyKey(string address, string device) => $"proxy {address} dev {device}";

    // ---- sysctls ----

    /// <summary>Reads a sysctl such as "net.ipv4.ip_forward" or "net.ipv4.conf.eth0.rp_filter" (trimmed).</summary>
    public string ReadSysctl(string name)
    {
        string path = SysctlPath(name);
        return InNamespace(() => File.ReadAllText(path)).Trim();
    }

    /// <summary>Writes a sysctl; when the value changes, undo writes the previous value back.</summary>
    public void WriteSysctl(string name, string value)
    {
        string old = ReadSysctl(name);
        if (old == value) return;
        WriteSysctlRaw(name, value);
        Record($"sysctl {name}={value} (was {old})", () => WriteSysctlRaw(name, old), command: ["sysctl", Netns ?? "", name, old]);
    }

    private void WriteSysctlRaw(string name, string value)
    {
        string path = SysctlPath(name);
        try
        {
            InNamespace(() => { File.WriteAllText(path, value + "\n"); return 0; });
        }
        catch (IOException e)
        {
            throw new HostNetworkException($"sysctl {name}={value}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Maps sysctl dotted notation to /proc/sys ("/" inside a component stands for a dot, as in
    /// net.ipv4.conf.eth0/100.rp_filter for the device eth0.100). Absolute paths are returned unchanged.
    /// </summary>
    public static string SysctlPath(string name)
    {
        if (name.StartsWith('/')) return name;
        var parts = name.Split('.').Select(p => p.Replace('/', '.'));
        return "/proc/sys/" + string.Join('/', parts);
    }

    // ---- routing queries ----

    /// <summary>The local address the kernel would use as source toward <paramref name="destination"/>
    /// (connect a UDP socket, then getsockname; nothing is sent).</summary>
    public IpAddress SourceAddressToward(IpAddress destination) => InNamespace(() =>
    {
        var ip = destination.ToIPAddress();
        using var s = new Socket(ip.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        s.Connect(new IPEndPoint(ip, 9));
        return IpAddress.FromIPAddress(((IPEndPoint)s.LocalEndPoint!).Address);
    });

    // ---- undo ----

    /// <summary>
    /// Reverts every recorded change, newest first. Each step is forgotten before it runs, so a second call does
    /// nothing; a failing step does not stop the others, and the failures are thrown together at the end.
    /// </summary>
    public void Undo()
    {
        List<Exception>? errors = null;
        while (true)
        {
            string what; Action revert;
            lock (_undo)
            {
                if (_undo.Count == 0) break;
                (what, revert, _, _) = _undo[^1];
                _undo.RemoveAt(_undo.Count - 1);
            }
            SaveJournal();
            try
            {
                revert();
                _log?.Invoke($"undone: {what}");
            }
            catch (Exception e)
            {
                (errors ??= new()).Add(new HostNetworkException($"undo {what}: {e.Message}", e));
            }
        }
        Journal?.Delete();
        if (errors is not null) throw new AggregateException("Some host network changes could not be undone.", errors);
    }

    /// <summary>Undoes every change; failures go to the log callback instead of being thrown.</summary>
    public void Dispose()
    {
        try
        {
            Undo();
        }
        catch (AggregateException e)
        {
            foreach (var inner in e.InnerExceptions) _log?.Invoke(inner.Message);
        }
    }

    /// <summary>Adds an undo step; one with the <paramref name="key"/> of a step still pending is not added twice.</summary>
    private void Record(string what, Action revert, string? key = null, string[]? command = null)
    {
        lock (_undo)
        {
            if (key is not null && _undo.Exists(u => u.Key == key)) return;
            _undo.Add((what, revert, key, command));
        }
        SaveJournal();
        _log?.Invoke(what);
    }

    /// <summary>
    /// Records a change made elsewhere (an nft table, say) with its revert and the command that reverts it, so undo and
    /// the crash journal cover it too.
    /// </summary>
    public void Remember(string what, Action revert, string[] command) => Record(what, revert, command: command);

    private string[] IpCommand(params string[] args) => ["ip", .. Ip(args)];

    private void SaveJournal()
    {
        if (Journal is not { } j) return;
        HostJournal.Step[] steps;
        lock (_undo) steps = _undo.Where(u => u.Command is not null).Select(u => new HostJournal.Step(u.What, u.Command!)).ToArray();
        j.Write(steps, _log);
    }

    /// <summary>Drops the newest undo step recorded with <paramref name="key"/>; false when there is none.</summary>
    private bool Forget(string key)
    {
        lock (_undo)
        {
            int i = _undo.FindLastIndex(u => u.Key == key);
            if (i < 0) return false;
            _undo.RemoveAt(i);
        }
        SaveJournal();
        return true;
    }

    // ---- iproute2 ----

    /// <summary>Runs `ip [-n netns] args...` and returns its stdout; throws <see cref="HostNetworkException"/> with
    /// stderr when it exits non-zero. Not recorded for undo.</summary>
    public string RunIp(params string[] args) => ExternalTool.RunChecked("ip", Ip(args));

    private string[] Ip(params string[] args) => Netns is null ? args : ["-n", Netns, .. args];

    private T InNamespace<T>(Func<T> f) => Netns is null ? f() : NetworkNamespace.Run(Netns, f);

    private static string Cidr(IpAddress a, int prefixLength)
    {
        int max = a.IsV4 ? 32 : 128;
        ArgumentOutOfRangeException.ThrowIfNegative(prefixLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(prefixLength, max);
        return $"{a}/{prefixLength}";
    }
}
