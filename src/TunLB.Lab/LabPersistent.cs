using System.Diagnostics;

namespace TunLB.Lab;

/// <summary>`tunlb lab up` / `tunlb lab down`: the standard lab left running for experiments.</summary>
public static class LabPersistent
{
    public const string Prefix = "tlblab-";
    public const string StateDir = "/run/tunlb-lab";

    public static int Up(TextWriter o)
    {
        Prerequisites.Ensure(o);
        if (Netns.List().Any(n => n.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            o.WriteLine($"a lab is already up (namespaces {Prefix}*); run `tunlb lab down` first");
            return 1;
        }
        Directory.CreateDirectory(StateDir);
        StandardLab lab;
        try { lab = StandardLab.Build(Prefix); }
        catch (Exception e) { o.WriteLine($"lab up failed: {e.Message}"); Topology.DeleteByPrefix(Prefix); return 1; }
        try
        {
            var self = LabServices.SelfCommand();
            var rsConf = Path.Combine(StateDir, "realserver.toml");
            File.WriteAllText(rsConf, StandardLab.RealServerConfig());
            foreach (var rs in StandardLab.RealServers)
            {
                Detached(rs.Role, "agent-" + rs.Role, [.. self, "realserver", "--config", rsConf], LabServices.AgentReady);
                var root = Path.Combine(StateDir, "www-" + rs.Role);
                Directory.CreateDirectory(root);
                File.WriteAllText(Path.Combine(root, "index.html"), rs.Role + "\n");
                Detached(rs.Role, "http-" + rs.Role, ["python3", "-u", "-m", "http.server", "80", "--bind", StandardLab.Vip, "--directory", root], "Serving HTTP");
            }
            var dirConf = Path.Combine(StateDir, "director.toml");
            File.WriteAllText(dirConf, StandardLab.DirectorConfig("rr"));
            Detached("director", "director", [.. self, "director", "--config", dirConf], LabServices.DirectorReady);
        }
        catch (Exception e)
        {
            o.WriteLine($"lab up failed: {e.Message}");
            Down(TextWriter.Null);
            return 1;
        }
        o.WriteLine($"""
            lab is up. Namespaces: {string.Join(' ', lab.Topology.Namespaces)}
              configs and logs:  {StateDir}/
              try:               ip netns exec {Prefix}client curl http://{StandardLab.Vip}/
              watch the wire:    ip netns exec {Prefix}director tcpdump -ni eth0
              remove it:         tunlb lab down
            """);
        return 0;
    }

    private static void Detached(string role, string label, string[] cmd, string readyText)
    {
        var log = Path.Combine(StateDir, label + ".log");
        File.WriteAllText(log, "");
        var quoted = string.Join(' ', cmd.Select(a => "'" + a.Replace("'", "'\\''") + "'"));
        Sh.Ok("setsid", "-f", "sh", "-c", $"exec ip netns exec {Prefix}{role} {quoted} >>'{log}' 2>&1 </dev/null");
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < LabServices.StartTimeoutMs)
        {
            if (File.ReadAllText(log).Contains(readyText, StringComparison.Ordinal)) return;
            Thread.Sleep(100);
        }
        throw new InvalidOperationException($"{label} did not start; log {log}:\n{File.ReadAllText(log)}");
    }

    public static int Down(TextWriter o)
    {
        int n = Topology.DeleteByPrefix(Prefix);
        try { if (Directory.Exists(StateDir)) Directory.Delete(StateDir, true); } catch (IOException) { }
        o.WriteLine(n == 0 ? "no lab namespaces found" : $"removed {n} lab namespaces and their processes");
        return 0;
    }
}
