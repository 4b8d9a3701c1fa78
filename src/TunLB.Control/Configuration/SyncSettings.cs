using TunLB.Core.Flows;

namespace TunLB.Control.Configuration;

/// <summary>
/// The <c>[sync]</c> table: connection sync with peer directors (docs/connection-sync.md). Property initializers are
/// the defaults; <see cref="DirectorKeys.Sync"/> reads and renders it.
/// </summary>
public sealed record SyncSettings
{
    public static SyncSettings Defaults { get; } = new();

    /// <summary>On when the file has a <c>[sync]</c> table, unless it says <c>enabled = false</c>.</summary>
    public bool Enabled { get; init; }
    /// <summary>The other directors' addresses (unicast); messages from anywhere else are dropped.</summary>
    public IReadOnlyList<IpAddress> Peers { get; init; } = [];
    public int Port { get; init; } = 8848;
    /// <summary>The shared secret for the messages' HMAC (from <c>key</c>, or read from <see cref="KeyFile"/>).</summary>
    public string Key { get; init; } = "";
    /// <summary>The file the key was read from (<c>key_file</c>); empty when <c>key</c> is given inline.</summary>
    public string KeyFile { get; init; } = "";
    /// <summary>Local address to bind and send from; null = any.</summary>
    public IpAddress? Bind { get; init; }
    /// <summary>The IPVS sync id in each message's header (0..255); messages with another id are dropped.</summary>
    public int SyncId { get; init; }
    /// <summary>Messages sent per second at most (live records and bulk answers together).</summary>
    public int MaxMessagesPerSecond { get; init; } = 1000;
    /// <summary>Records each data-path worker may queue for the sender before it drops them.</summary>
    public int QueueLength { get; init; } = 65536;
    /// <summary>Seconds a starting director waits for its peers' tables before it announces anyway.</summary>
    public int ResyncWait { get; init; } = 5;
}
