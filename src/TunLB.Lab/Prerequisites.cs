namespace TunLB.Lab;

/// <summary>Checks for root and the host tools the lab drives; installs missing ones with apt-get on Debian.</summary>
public static class Prerequisites
{
    private static readonly (string Tool, string Package)[] Tools =
    [
        ("ip", "iproute2"), ("curl", "curl"), ("python3", "python3"), ("tcpdump", "tcpdump"), ("sysctl", "procps"),
        ("nft", "nftables"), ("traceroute", "traceroute"),
    ];

    public static void Ensure(TextWriter o)
    {
        if (Environment.UserName != "root" && Sh.Run("id", ["-u"]).Stdout.Trim() != "0")
            throw new InvalidOperationException("the lab needs root (it creates network namespaces)");
        var missing = Tools.Where(t => !Sh.Exists(t.Tool)).Select(t => t.Package).Distinct().ToArray();
        if (missing.Length == 0) return;
        if (!Sh.Exists("apt-get"))
            throw new InvalidOperationException("missing tools: " + string.Join(' ', missing));
        o.WriteLine("  installing " + string.Join(' ', missing) + " with apt-get");
        var r = Sh.Run("apt-get", ["install", "-y", "-q", .. missing], 600_000);
        if (r.ExitCode != 0)
        {
            Sh.Run("apt-get", ["update", "-q"], 600_000);
            r = Sh.Run("apt-get", ["install", "-y", "-q", .. missing], 600_000);
            if (r.ExitCode != 0) throw new InvalidOperationException("apt-get install failed: " + r.Stderr);
        }
    }
}
