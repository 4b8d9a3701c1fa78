using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Packets;
using TunLB.Director.Api;
using TunLB.Director.Management;
using TunLB.Tests.Shared;

namespace TunLB.Director.Tests;

internal static class Fixtures
{
    public const string Vip = "203.0.113.10";
    public const string Client = "198.51.100.10";
    public static readonly IpAddress DirectorAddress = IpAddress.Parse("192.0.2.1");

    public const string Basic = DirectorConfigs.Basic;

    /// <summary>The management API's operations over <paramref name="s"/> (validation, DTOs, HTTP errors).</summary>
    public static DirectorApi ApiOf(DirectorState s) => new(s);

    public static DirectorConfig Parse(string toml, string path = "director.toml") => ConfigLoader.ParseDirector(toml, path);

    /// <summary>A state over <paramref name="toml"/> with every real routed from <see cref="DirectorAddress"/>, a fixed data-path
    /// clock and hash seed, and <paramref name="time"/> (default: the system's) as the health clock.</summary>
    public static DirectorState NewState(string toml = Basic, string path = "director.toml", List<string>? log = null, List<string>? errors = null,
        TimeProvider? time = null) =>
        new(Parse(toml, path), new DirectorStateOptions
        {
            OuterSource = _ => DirectorAddress,
            Log = l => { lock (log ?? new()) log?.Add(l); },
            LogError = l => { lock (errors ?? new()) errors?.Add(l); },
            Clock = () => 1000,
            HashSeed = 42,
            Time = time ?? TimeProvider.System,
        });

    public static byte[] Syn(ushort port, string client = Client, ushort vport = 80) => TestPackets.Tcp(client, port, Vip, vport, TcpFlags.Syn);
    public static byte[] Ack(ushort port, string client = Client, ushort vport = 80) => TestPackets.Tcp(client, port, Vip, vport, TcpFlags.Ack);

    /// <summary>Runs a packet through the engine; returns the real server it went to, or the drop reason.</summary>
    public static (DropReason Verdict, string? Real) Send(DirectorState s, byte[] packet, long now = 1000)
    {
        var output = new byte[packet.Length + 64];
        var v = s.Engine.ProcessOne(packet, output, now, out _, out var nextHop);
        return (v, v == DropReason.None ? nextHop.ToString() : null);
    }
}
