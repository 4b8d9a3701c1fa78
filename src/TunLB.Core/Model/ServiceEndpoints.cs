using TunLB.Core.Flows;

namespace TunLB.Core.Model;

/// <summary>
/// What the director takes off the host for its services: VIP + protocol + port, where port 0 stands for every port of
/// that protocol. Built from the published services; the capture filters and the local-VIP steering match exactly this
/// set, so other ports of a VIP stay with the kernel. Immutable.
/// </summary>
public sealed class ServiceEndpoints
{
    private readonly HashSet<ServiceKey> _keys;

    private ServiceEndpoints(HashSet<ServiceKey> keys) { _keys = keys; }

    public static readonly ServiceEndpoints Empty = new([]);

    public static ServiceEndpoints Of(IEnumerable<ServiceKey> keys) => new(keys.ToHashSet());

    public IReadOnlyCollection<ServiceKey> Keys => _keys;
    public int Count => _keys.Count;

    /// <summary>The VIPs, each once.</summary>
    public IReadOnlyList<IpAddress> Vips => _keys.Select(k => k.Vip).Distinct().ToArray();

    /// <summary>The endpoints whose VIP is in <paramref name="vips"/>.</summary>
    public ServiceEndpoints Where(IReadOnlyCollection<IpAddress> vips) => new(_keys.Where(k => vips.Contains(k.Vip)).ToHashSet());

    /// <summary>Whether a packet to <paramref name="vip"/> with this protocol and destination port belongs to a service.</summary>
    public bool Contains(IpAddress vip, byte protocol, ushort port) =>
        _keys.Contains(new ServiceKey(vip, port, protocol)) || _keys.Contains(new ServiceKey(vip, 0, protocol));

    public bool SetEquals(ServiceEndpoints other) => _keys.SetEquals(other._keys);

    public override string ToString() => string.Join(", ", _keys.Select(k => k.ToString()).Order(StringComparer.Ordinal));
}
