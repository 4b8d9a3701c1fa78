using System.Net;
using TunLB.Health;

namespace TunLB.RealServer.Tests;

/// <summary>The real server's agent-check server against the director's agent checker.</summary>
public sealed class AgentCheckTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "tunlb-agent-" + Guid.NewGuid().ToString("n"));
    private string StateFile => Path.Combine(_dir, "sub", "agent-state");

    public void Dispose() { try { Directory.Delete(_dir, true); } catch { } }

    private static async Task<CheckResult> Check(AgentCheckServer srv)
    {
        var ctx = new CheckContext
        {
            Spec = new CheckSpec { Type = "agent", TimeoutSeconds = 5 },
            Target = new IPEndPoint(IPAddress.Loopback, srv.EndPoint.Port),
            RealAddress = IPAddress.Loopback,
        };
        return await new AgentChecker().CheckAsync(ctx, CancellationToken.None);
    }

    [Fact]
    public async Task StateFileDrivesTheAgentReply()
    {
        using var srv = AgentCheckServer.Start(IPAddress.Loopback, 0, StateFile);
        var r = await Check(srv);                               // no file: ready
        Assert.True(r.Ok, r.Detail);
        Assert.Equal(AgentAdmin.Ready, r.Admin);

        AgentCheckState.Write(StateFile, "drain");
        r = await Check(srv);
        Assert.True(r.Ok);
        Assert.Equal(AgentAdmin.Drain, r.Admin);

        AgentCheckState.Write(StateFile, "maint");
        Assert.Equal(AgentAdmin.Maint, (await Check(srv)).Admin);

        AgentCheckState.Write(StateFile, "down");
        Assert.False((await Check(srv)).Ok);

        AgentCheckState.Write(StateFile, "ready", "50%");
        r = await Check(srv);
        Assert.True(r.Ok);
        Assert.Equal((AgentAdmin.Ready, 50), (r.Admin, r.WeightPercent));
        // The server counts an answer after sending it, so the checker can return before the count moves: wait for it.
        SpinWait.SpinUntil(() => Interlocked.Read(ref srv.Answered) >= 5, 5000);
        Assert.Equal(5, Interlocked.Read(ref srv.Answered));
        Assert.Contains("state ready", srv.Describe());
    }

    [Fact]
    public void StateFileIsReadLeniently()
    {
        Directory.CreateDirectory(_dir);
        var f = Path.Combine(_dir, "s");
        File.WriteAllText(f, "DRAIN\n");
        Assert.Equal(("drain", ""), AgentCheckState.Read(f));
        File.WriteAllText(f, "nonsense");
        Assert.Equal(("ready", ""), AgentCheckState.Read(f));
        Assert.Equal(("ready", ""), AgentCheckState.Read(Path.Combine(_dir, "absent")));
        Assert.Throws<ArgumentException>(() => AgentCheckState.Write(f, "sleeping"));
        Assert.Equal("up drain\n", AgentCheckState.Reply("drain", ""));
        Assert.Equal("maint\n", AgentCheckState.Reply("maint", "75%"));
    }
}
