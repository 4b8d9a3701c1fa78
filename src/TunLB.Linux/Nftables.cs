namespace TunLB.Linux;

/// <summary>Runs nft(8) scripts (control plane only). Throws <see cref="HostNetworkException"/> with nft's message on failure.</summary>
public static class Nftables
{
    /// <summary>Runs <paramref name="script"/> with `nft -f -` (one atomic transaction); returns stdout.</summary>
    public static string Run(string script) => ExternalTool.RunChecked("nft", ["-f", "-"], script);

    /// <summary>Runs `nft args...`; returns stdout.</summary>
    public static string Command(params string[] args) => ExternalTool.RunChecked("nft", args);
}
