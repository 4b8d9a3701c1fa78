namespace TunLB.Lab;

/// <summary>Thin wrapper over `ip netns` and `ip -n`: every object a lab creates lives in a namespace it owns.</summary>
public static class Netns
{
    public static void Add(string ns)
    {
        Sh.Ok("ip", "netns", "add", ns);
        Sh.Ok("ip", "-n", ns, "link", "set", "lo", "up");
    }

    /// <summary>Kills every process in the namespace and deletes it. Never throws.</summary>
    public static void Delete(string ns)
    {
        try
        {
            var pids = Sh.Run("ip", ["netns", "pids", ns]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            foreach (var pid in pids) Sh.Run("kill", ["-TERM", pid]);
            if (pids.Length > 0)
            {
                Thread.Sleep(300);
                foreach (var pid in pids) Sh.Run("kill", ["-KILL", pid]);
            }
            Sh.Run("ip", ["netns", "del", ns]);
        }
        catch { /* best effort */ }
    }

    public static IReadOnlyList<string> List() =>
        Sh.Run("ip", ["netns", "list"]).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')[0]).ToList();

    public static string Exec(string ns, params string[] cmd) => Sh.Ok("ip", ["netns", "exec", ns, .. cmd]);

    public static Sh.Result Try(string ns, int timeoutMs, params string[] cmd) => Sh.Run("ip", ["netns", "exec", ns, .. cmd], timeoutMs);

    public static void Sysctl(string ns, string key, string value) =>
        Exec(ns, "sysctl", "-q", "-w", $"{key}={value}");

    public static BackgroundProcess Start(string ns, string label, string file, params string[] args) =>
        BackgroundProcess.Start(label, "ip", ["netns", "exec", ns, file, .. args]);
}
