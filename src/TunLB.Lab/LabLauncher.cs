using System.Diagnostics;

namespace TunLB.Lab;

/// <summary>A process a lab started: owned by this process (demo, tests) or detached (`tunlb lab up`).</summary>
public interface ILabProcess
{
    /// <summary>The process id when known (owned processes); detached ones are found by their namespace.</summary>
    int? Pid { get; }
    string Output { get; }
    bool HasExited { get; }
    bool WaitForOutput(string text, int timeoutMs);
}

/// <summary>Starts a command inside one namespace of a topology.</summary>
public abstract class LabLauncher
{
    public abstract ILabProcess Start(string role, string label, string[] cmd);

    /// <summary>Processes owned by the topology: stopped by <see cref="Topology.Dispose"/>.</summary>
    public static LabLauncher Owned(Topology t) => new OwnedLauncher(t);

    /// <summary>Processes that outlive this one (setsid), logging to <paramref name="logDir"/>/LABEL.log; removed with
    /// their namespaces by `tunlb lab down`.</summary>
    public static LabLauncher Detached(Topology t, string logDir) => new DetachedLauncher(t, logDir);

    private sealed class OwnedLauncher(Topology t) : LabLauncher
    {
        public override ILabProcess Start(string role, string label, string[] cmd) => new OwnedProcess(t.Start(role, label, cmd[0], cmd[1..]));
    }

    private sealed class OwnedProcess(BackgroundProcess p) : ILabProcess
    {
        public int? Pid => p.Pid;
        public string Output => p.Output;
        public bool HasExited => p.HasExited;
        public bool WaitForOutput(string text, int timeoutMs) => p.WaitForOutput(text, timeoutMs);
    }

    private sealed class DetachedLauncher(Topology t, string logDir) : LabLauncher
    {
        public override ILabProcess Start(string role, string label, string[] cmd)
        {
            var log = Path.Combine(logDir, label + ".log");
            File.WriteAllText(log, "");
            var quoted = string.Join(' ', cmd.Select(a => "'" + a.Replace("'", "'\\''") + "'"));
            Sh.Ok("setsid", "-f", "sh", "-c", $"exec ip netns exec {t.Ns(role)} {quoted} >>'{log}' 2>&1 </dev/null");
            return new DetachedProcess(log);
        }
    }

    private sealed class DetachedProcess(string log) : ILabProcess
    {
        public int? Pid => null;
        public string Output => File.Exists(log) ? File.ReadAllText(log) : "";
        public bool HasExited => false;

        public bool WaitForOutput(string text, int timeoutMs)
        {
            var sw = Stopwatch.StartNew();
            do
            {
                if (Output.Contains(text, StringComparison.Ordinal)) return true;
                Thread.Sleep(100);
            } while (sw.ElapsedMilliseconds < timeoutMs);
            return false;
        }
    }
}
