using TunLB.Core.Packets;
using TunLB.Director.Management;
using static TunLB.Director.Tests.Fixtures;

namespace TunLB.Director.Tests.Announce;

/// <summary>
/// Several directors behind ECMP must agree on the real server for a flow one of them never saw: with mh, sh and dh
/// two directors built from the same config (each with its own random hash seed, as two processes) pick the same
/// real server for every flow, from its SYN or from a segment in the middle of it (adopted with announce = true).
/// </summary>
public sealed class DirectorAgreementTests
{
    private static string Config(string scheduler, string flags) => $$"""
        [director]
        conn_max = 10000
        announce = true

        [[service]]
        vip = "203.0.113.10"
        port = 80
        scheduler = "{{scheduler}}"
        scheduler_flags = [{{flags}}]

        [[service.real]]
        address = "192.0.2.11"

        [[service.real]]
        address = "192.0.2.12"
        weight = 2

        [[service.real]]
        address = "192.0.2.13"

        [[service.real]]
        address = "192.0.2.131"
        weight = 3
        """;

    private static DirectorState Director(string toml, ulong seed) =>
        new(Parse(toml), new DirectorStateOptions { OuterSource = _ => DirectorAddress, Clock = () => 1000, HashSeed = seed });

    [Theory]
    [InlineData("mh", "", 3)]
    [InlineData("mh", "\"mh-port\"", 3)]
    [InlineData("sh", "", 3)]
    [InlineData("sh", "\"sh-port\"", 3)]
    [InlineData("dh", "", 1)] // one VIP: dh sends everything to one real server
    public void Two_directors_pick_the_same_real_for_every_flow(string scheduler, string flags, int minReals)
    {
        var toml = Config(scheduler, flags);
        var a = Director(toml, 0x1234_5678_9abc_def0);
        var b = Director(toml, 0x0fed_cba9_8765_4321);
        var reals = new HashSet<string>();
        for (int i = 0; i < 600; i++)
        {
            string client = $"198.51.100.{1 + i % 200}";
            ushort port = (ushort)(20000 + i * 7);
            // Director a saw the flow from its SYN; director b first sees it mid-flow.
            var (va, ra) = Send(a, Syn(port, client));
            var (vb, rb) = Send(b, Ack(port, client));
            Assert.Equal((DropReason.None, DropReason.None), (va, vb));
            Assert.Equal(ra, rb);
            reals.Add(ra!);
        }
        Assert.True(reals.Count >= minReals, $"only {reals.Count} real(s) used");
        Assert.Equal(600, b.View.Services[0].Service.Adopted);
        Assert.Equal(0, a.View.Services[0].Service.Adopted);
    }
}
