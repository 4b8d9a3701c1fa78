using TunLB.Lab;

namespace TunLB.EndToEnd.Tests;

/// <summary>One standard lab (client, internet, director, two datacenters, three real servers) per test class.</summary>
public sealed class LabFixture : IDisposable
{
    public StandardLab Lab { get; }
    public LabServices Services { get; }
    public string WorkDir { get; }
    public Topology T => Lab.Topology;

    public LabFixture()
    {
        var prefix = Topology.NewPrefix();
        WorkDir = Path.Combine(Path.GetTempPath(), prefix + "e2e");
        Lab = StandardLab.Build(prefix);
        try
        {
            Services = new LabServices(Lab, Tunlb.Command(), WorkDir);
            Services.StartRealServers();
            // io = "tun" explicitly (the default is "auto"): these tests watch VIP traffic on the director's uplink and the
            // kernel's forwarding into the TUN device, which an XDP redirect would take away before tcpdump sees it.
            Services.StartDirector(StandardLab.DirectorConfig("rr").Replace("[director]", "[director]\nio = \"tun\""));
        }
        catch
        {
            Lab.Topology.Dispose();
            throw;
        }
    }

    public Sh.Result Curl(params string[] args) => T.Try("client", 30_000, ["curl", "-s", "--max-time", "10", .. args]);

    public void Dispose()
    {
        Lab.Topology.Dispose();
        try { Directory.Delete(WorkDir, true); } catch { }
    }
}
