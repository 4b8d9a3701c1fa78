namespace TunLB.Lab;

/// <summary>
/// Builds hosts and links in network namespaces. Every namespace name starts with <see cref="Prefix"/>, so
/// one call to <see cref="Dispose"/> (or `tunlb lab down`) removes all of it, processes included.
/// </summary>
public sealed class Topology : IDisposable
{
    private readonly List<string> _namespaces = new();
    private readonly List<BackgroundProcess> _processes = new();
    private int _linkSeq;

    public Topology(string prefix) { Prefix = prefix; }

    /// <summary>Namespace name prefix, e.g. "tlb3f2a-". Namespace names must stay unique per run.</summary>
    public string Prefix { get; }

    public string Ns(string role) => Prefix + role;

    /// <summary>Creates a host namespace with loopback up; <paramref name="router"/> enables forwarding and loose reverse-path checks.</summary>
    public string Host(string role, bool router = false)
    {
        var ns = Ns(role);
        Netns.Add(ns);
        _namespaces.Add(ns);
        // Explicit values: a new namespace may inherit the host's settings otherwise.
        Netns.Sysctl(ns, "net.ipv4.conf.all.rp_filter", "0");
        Netns.Sysctl(ns, "net.ipv4.conf.default.rp_filter", "0");
        Netns.Sysctl(ns, "net.ipv4.ip_forward", router ? "1" : "0");
        Netns.Sysctl(ns, "net.ipv6.conf.all.disable_ipv6", "0");
        return ns;
    }

    /// <summary>Connects two namespaces with a veth pair created directly inside them (no name in the root namespace).</summary>
    public void Link(string roleA, string ifA, string? cidrA, string roleB, string ifB, string? cidrB, int mtu = 1500)
    {
        string nsA = Ns(roleA), nsB = Ns(roleB);
        // Create with temporary unique names in the root namespace, then move: veth peers in netns by name.
        string tmpA = $"tlv{Environment.ProcessId % 100000}x{_linkSeq}a", tmpB = $"tlv{Environment.ProcessId % 100000}x{_linkSeq++}b";
        Sh.Ok("ip", "link", "add", tmpA, "mtu", mtu.ToString(), "netns", nsA, "type", "veth", "peer", "name", tmpB, "mtu", mtu.ToString(), "netns", nsB);
        Sh.Ok("ip", "-n", nsA, "link", "set", "dev", tmpA, "name", ifA);
        Sh.Ok("ip", "-n", nsB, "link", "set", "dev", tmpB, "name", ifB);
        Up(nsA, ifA, cidrA);
        Up(nsB, ifB, cidrB);
    }

    /// <summary>Creates a bridge in a namespace and gives it an address.</summary>
    public void Bridge(string role, string name, string? cidr)
    {
        var ns = Ns(role);
        Sh.Ok("ip", "-n", ns, "link", "add", name, "type", "bridge");
        Up(ns, name, cidr);
    }

    /// <summary>Enslaves an interface to a bridge in the same namespace.</summary>
    public void Enslave(string role, string ifName, string bridge) =>
        Sh.Ok("ip", "-n", Ns(role), "link", "set", "dev", ifName, "master", bridge);

    public void Route(string role, string prefix, string via) => Sh.Ok("ip", "-n", Ns(role), "route", "add", prefix, "via", via);

    public void DefaultRoute(string role, string via) => Route(role, "default", via);

    public void SetMtu(string role, string ifName, int mtu) => Sh.Ok("ip", "-n", Ns(role), "link", "set", "dev", ifName, "mtu", mtu.ToString());

    public string Exec(string role, params string[] cmd) => Netns.Exec(Ns(role), cmd);

    public Sh.Result Try(string role, int timeoutMs, params string[] cmd) => Netns.Try(Ns(role), timeoutMs, cmd);

    public BackgroundProcess Start(string role, string label, string file, params string[] args)
    {
        var p = Netns.Start(Ns(role), label, file, args);
        _processes.Add(p);
        return p;
    }

    private static void Up(string ns, string ifName, string? cidr)
    {
        if (cidr != null) Sh.Ok("ip", "-n", ns, "addr", "add", cidr, "dev", ifName);
        Sh.Ok("ip", "-n", ns, "link", "set", "dev", ifName, "up");
    }

    public IReadOnlyList<string> Namespaces => _namespaces;

    /// <summary>Stops the processes this topology started (SIGTERM first, so daemons clean up) and deletes its namespaces.</summary>
    public void Dispose()
    {
        for (int i = _processes.Count - 1; i >= 0; i--)
            try { _processes[i].Dispose(); } catch { }
        _processes.Clear();
        for (int i = _namespaces.Count - 1; i >= 0; i--) Netns.Delete(_namespaces[i]);
        _namespaces.Clear();
    }

    /// <summary>Deletes every namespace whose name starts with <paramref name="prefix"/> (for `lab down` and crash recovery).</summary>
    public static int DeleteByPrefix(string prefix)
    {
        int n = 0;
        foreach (var ns in Netns.List())
            if (ns.StartsWith(prefix, StringComparison.Ordinal)) { Netns.Delete(ns); n++; }
        return n;
    }

    public static string NewPrefix() => $"tlb{Random.Shared.Next(0x10000, 0xFFFFF):x5}-";
}
