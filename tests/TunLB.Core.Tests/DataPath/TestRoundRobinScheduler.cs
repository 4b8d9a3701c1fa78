using TunLB.Core.Flows;
using TunLB.Core.Model;
using TunLB.Core.Scheduling;

namespace TunLB.Core.Tests.DataPath;

/// <summary>Test-only scheduler: round robin over available destinations, ignoring weights otherwise.</summary>
internal sealed class TestRoundRobinScheduler : IScheduler
{
    private int _next;
    public string Name => "test-rr";
    public bool IsConsistentHash { get; init; }
    public int Calls;

    public void Update(Destination[] destinations) { }

    public Destination? Schedule(in FlowKey flow, Destination[] destinations)
    {
        Calls++;
        int n = destinations.Length;
        for (int k = 0; k < n; k++)
        {
            int i = (_next + k) % n;
            if (destinations[i].IsAvailable)
            {
                _next = (i + 1) % n;
                return destinations[i];
            }
        }
        return null;
    }
}
