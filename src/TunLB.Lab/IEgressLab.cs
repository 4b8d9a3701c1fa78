namespace TunLB.Lab;

/// <summary>What the egress-check end-to-end tests drive on either lab (<see cref="EgressLab"/>, <see cref="EgressLab6"/>).</summary>
public interface IEgressLab
{
    Topology Topology { get; }
    /// <summary>`tunlb egress-listen` on the director.</summary>
    BackgroundProcess StartListener(string[] tunlb, string token);
    /// <summary>`tunlb egress-check` on the real server, with <paramref name="extra"/> arguments.</summary>
    Sh.Result RunCheck(string[] tunlb, string token, params string[] extra);
    /// <summary>The seed's manual procedure on the same topology: traceroute from the VIP, tcpdump on the director.</summary>
    EgressManualResult RunManualProcedure(string workDir);
}
