using System.Diagnostics;
using System.Security.Cryptography;

namespace TunLB.Linux.Tests;

/// <summary>
/// A uniquely named network namespace (tlbt-&lt;8 hex&gt;) created with `ip netns add` and always deleted on Dispose.
/// Use <see cref="Run"/> to open sockets and TUN devices inside it (a dedicated thread that setns(2)s into it).
/// Deleting the name does not wait for sockets still open in it; dispose the ports first.
/// </summary>
public sealed class TestNetns : IDisposable
{
    public string Name { get; }
    private bool _deleted;

    public TestNetns()
    {
        Name = "tlbt-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4)).ToLowerInvariant();
        Ip("netns", "add", Name);
        try
        {
            Ip("-n", Name, "link", "set", "lo", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>`ip -n NAME args...`.</summary>
    public string Exec(params string[] args) => Ip(["-n", Name, .. args]);

    public void Run(Action action) => NetworkNamespace.Run(Name, action);

    public T Run<T>(Func<T> func) => NetworkNamespace.Run(Name, func);

    /// <summary>
    /// A kernel counter of this namespace from /proc/net/<paramref name="file"/> ("snmp" or "netstat"): the value under
    /// <paramref name="name"/> in the <paramref name="group"/> lines ("Icmp", "IpExt", ...), read by a thread inside it.
    /// </summary>
    public long Counter(string file, string group, string name)
    {
        var lines = Run(() => File.ReadAllLines("/proc/thread-self/net/" + file)).Where(l => l.StartsWith(group + ":", StringComparison.Ordinal)).ToArray();
        int column = Array.IndexOf(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries), name);
        if (column < 0) throw new InvalidOperationException($"no {group} {name} in /proc/net/{file}");
        return long.Parse(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[column]);
    }

    public void Dispose()
    {
        if (_deleted) return;
        _deleted = true;
        Ip("netns", "del", Name);
    }

    public static string Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {stderr.Result.Trim()}");
        return output;
    }

    /// <summary>
    /// A veth pair with one end in each namespace (ends named after the namespaces, so unique), both up with the
    /// given addresses. Deleted together with either namespace.
    /// </summary>
    public static (string DevA, string DevB) CreateVethPair(TestNetns a, string addressA, TestNetns b, string addressB)
    {
        string devA = "va" + a.Name[5..], devB = "vb" + b.Name[5..];
        Ip("link", "add", devA, "netns", a.Name, "type", "veth", "peer", "name", devB, "netns", b.Name);
        a.Exec("addr", "add", addressA, "dev", devA);
        b.Exec("addr", "add", addressB, "dev", devB);
        a.Exec("link", "set", devA, "up");
        b.Exec("link", "set", devB, "up");
        return (devA, devB);
    }
}
