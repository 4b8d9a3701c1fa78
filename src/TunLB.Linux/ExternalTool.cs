using System.Diagnostics;

namespace TunLB.Linux;

/// <summary>
/// Runs a host tool (ip, nft) to completion and collects its output: the one place the Linux layer starts processes.
/// Control plane only.
/// </summary>
public static class ExternalTool
{
    /// <summary>The tool's exit code, stdout and stderr (trimmed). Throws <see cref="HostNetworkException"/> only when it cannot start.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, IEnumerable<string> args, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new HostNetworkException($"{CommandLine(file, psi.ArgumentList)}: could not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new HostNetworkException($"{CommandLine(file, psi.ArgumentList)}: {e.Message} (is {file} installed?)", e);
        }
        using (p)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (stdin is not null)
            {
                p.StandardInput.Write(stdin);
                p.StandardInput.Close();
            }
            p.WaitForExit();
            var result = (p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult().Trim());
            // Process.Dispose leaves the redirected pipes to the finalizer: two descriptors per call until the next GC
            // (a reload storm held ~300 extra), so close them here.
            p.StandardOutput.Dispose();
            p.StandardError.Dispose();
            return result;
        }
    }

    /// <summary>Like <see cref="Run"/>, but a non-zero exit throws <see cref="HostNetworkException"/> with the tool's stderr. Returns stdout.</summary>
    public static string RunChecked(string file, IEnumerable<string> args, string? stdin = null)
    {
        var list = args as IReadOnlyList<string> ?? args.ToList();
        var (code, output, err) = Run(file, list, stdin);
        if (code != 0) throw new HostNetworkException($"{CommandLine(file, list)}: exit code {code}: {err}");
        return output;
    }

    /// <summary>
    /// Starts a long-running tool (e.g. `ip monitor`) and calls <paramref name="onLine"/> with each line it prints, on a
    /// thread of its own, until the returned handle is disposed (which kills the tool).
    /// </summary>
    public static IDisposable Watch(string file, IEnumerable<string> args, Action<string> onLine)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process p;
        try { p = Process.Start(psi) ?? throw new HostNetworkException($"{CommandLine(file, psi.ArgumentList)}: could not start"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new HostNetworkException($"{CommandLine(file, psi.ArgumentList)}: {e.Message} (is {file} installed?)", e);
        }
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) onLine(e.Data); };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new Watcher(p);
    }

    private sealed class Watcher(Process p) : IDisposable
    {
        public void Dispose()
        {
            try { if (!p.HasExited) p.Kill(); p.WaitForExit(2000); } catch (InvalidOperationException) { /* already gone */ }
            p.Dispose();
        }
    }

    private static string CommandLine(string file, IEnumerable<string> args) => file + " " + string.Join(' ', args);
}
