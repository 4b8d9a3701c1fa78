namespace TunLB.Lab;

/// <summary>What `tunlb lab demo --topology seed` measured; the end-to-end test asserts on it.</summary>
public sealed class SeedDemoResult
{
    public string Prefix { get; set; } = "";
    public string WorkDir { get; set; } = "";
    /// <summary>The router's route to the VIP once all directors announced it, and its next hops.</summary>
    public string InitialRoute { get; set; } = "";
    public IReadOnlyList<string> InitialNexthops { get; set; } = [];
    /// <summary>Milliseconds from the last director being ready to the router's 3-way route.</summary>
    public long AnnouncedMs { get; set; } = -1;
    public Dictionary<string, int> AnsweredBy { get; } = new();
    public Dictionary<string, long> ScheduledPerDirector { get; set; } = new();
    public Dictionary<string, long> ScheduledPerReal { get; set; } = new();
    public int Requests { get; set; }
    public Dictionary<string, string> EgressVerdicts { get; } = new();
    public int Downloads { get; set; }
    public int DownloadsIntact { get; set; }
    /// <summary>From `kill -9` of a director to its next hop leaving the router's route.</summary>
    public long KillDroppedMs { get; set; } = -1;
    /// <summary>From a director going silent (drops everything) to its next hop leaving the router's route (BFD).</summary>
    public long SilentDroppedMs { get; set; } = -1;
    /// <summary>The router's next-hop sets seen while each failed director left, in order.</summary>
    public List<string> RouteStates { get; } = new();
    public long KilledBackMs { get; set; } = -1;
    public long SilentBackMs { get; set; } = -1;
    public string ClusterView { get; set; } = "";
    public int ClusterExit { get; set; } = -1;
    public List<string> Problems { get; } = new();
    public bool Ok => Problems.Count == 0;
}
