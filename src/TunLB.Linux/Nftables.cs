using System.Diagnostics;

namespace TunLB.Linux;

/// <summary>Runs nft(8) scripts (control plane only). Throws <see cref="HostNetworkException"/> with nft's message on failure.</summary>
public static class Nftables
{
    /// <summary>Runs <paramref name="script"/> with `nft -f -` (one atomic transaction); returns stdout.</summary>
    public static string Run(string script) => Exec(["-f", "-"], script);

    /// <summary>Runs `nft args...`; returns stdout.</summary>
    public static string Command(params string[] args) => Exec(args, null);

    private static string Exec(string[] args, string? stdin)
    {
        var psi = new ProcessStartInfo("nft")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        string commandLine = "nft " + string.Join(' ', args);
        Process p;
        try { p = Process.Start(psi) ?? throw new HostNetworkException($"{commandLine}: could not start"); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new HostNetworkException($"{commandLine}: {e.Message} (is nftables installed?)", e);
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
            string err = stderr.GetAwaiter().GetResult().Trim();
            if (p.ExitCode != 0) throw new HostNetworkException($"{commandLine}: exit code {p.ExitCode}: {err}");
            return stdout.GetAwaiter().GetResult();
        }
    }
}
