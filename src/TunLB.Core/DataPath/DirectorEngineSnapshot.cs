using System.Collections.Frozen;
using System.Numerics;
using System.Runtime.CompilerServices;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Core.DataPath;

/// <summary>
/// An immutable view of the configuration that the data path reads: services by key and destinations
/// by id. Published as a whole by <see cref="DirectorEngine.SetServices"/>.
/// </summary>
internal sealed class DirectorEngineSnapshot
{
    public static readonly DirectorEngineSnapshot Empty = new([], 0);

    /// <summary>Services by key, for the control plane and listings.</summary>
    public readonly FrozenDictionary<ServiceKey, VirtualService> Services;

    /// <summary>Destinations indexed by <see cref="Destination.Id"/>; null where an id is unused or deleted.</summary>
    public readonly Destination?[] Registry;

    // The hot-path service lookup: open addressing with linear probing over a power-of-two array that is
    // at most half full. Written only here, so the per-packet lookup is a few non-virtual instructions.
    // The slot is multiplicative (Fibonacci) hashing of the key folded to 64 bits: one multiply, where a
    // FlowHash would be a chain of three; only configured keys are stored, so probe runs depend on the
    // configuration alone (a packet for an unknown port ends at the first empty slot).
    private readonly ServiceKey[] _keys;
    private readonly VirtualService?[] _values;
    private readonly int _mask;
    private readonly int _shift;
    private readonly ulong _seed;

    // Non-first fragments carry no ports: they find their service by (VIP, protocol) alone. When several
    // services share a VIP and protocol, the one with the lowest port is used (deterministic and documented).
    private readonly FrozenDictionary<(IpAddress Vip, byte Protocol), VirtualService> _byVipProtocol;
    private readonly FrozenSet<IpAddress> _vips;

    public DirectorEngineSnapshot(IReadOnlyList<VirtualService> services, ulong seed)
    {
        _seed = seed;
        var dict = new Dictionary<ServiceKey, VirtualService>(services.Count);
        int maxId = -1;
        foreach (var s in services)
        {
            ArgumentNullException.ThrowIfNull(s);
            if (!dict.TryAdd(s.Key, s)) throw new ArgumentException($"Duplicate virtual service {s.Key}.", nameof(services));
            foreach (var d in s.Destinations)
            {
                ArgumentOutOfRangeException.ThrowIfNegative(d.Id);
                if (d.Id > maxId) maxId = d.Id;
            }
        }
        Services = dict.ToFrozenDictionary();

        var byVip = new Dictionary<(IpAddress, byte), VirtualService>();
        foreach (var s in services)
            if (!byVip.TryGetValue((s.Key.Vip, s.Key.Protocol), out var cur) || s.Key.Port < cur.Key.Port)
                byVip[(s.Key.Vip, s.Key.Protocol)] = s;
        _byVipProtocol = byVip.ToFrozenDictionary();
        _vips = services.Select(s => s.Key.Vip).ToFrozenSet();

        Registry = new Destination?[maxId + 1];
        foreach (var s in services)
            foreach (var d in s.Destinations)
            {
                if (Registry[d.Id] is { } other && !ReferenceEquals(other, d))
                    throw new ArgumentException($"Destination id {d.Id} is used by two destinations.", nameof(services));
                Registry[d.Id] = d;
            }

        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(4, services.Count * 2));
        _keys = new ServiceKey[size];
        _values = new VirtualService?[size];
        _mask = size - 1;
        _shift = 64 - BitOperations.Log2((uint)size);
        foreach (var s in services)
        {
            int i = (int)Hash(s.Key.Vip, s.Key.Port, s.Key.Protocol) & _mask;
            while (_values[i] is not null) i = (i + 1) & _mask;
            _keys[i] = s.Key;
            _values[i] = s;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong Hash(IpAddress vip, ushort port, byte protocol) =>
        ((vip.Lo ^ BitOperations.RotateLeft(vip.Hi, 32) ^ ((ulong)port << 48) ^ ((ulong)protocol << 40) ^ _seed)
            * 0x9E37_79B9_7F4A_7C15UL) >> _shift;

    /// <summary>The service for a packet's destination address, port and protocol, or null.</summary>
    public VirtualService? FindService(IpAddress vip, ushort port, byte protocol)
    {
        var keys = _keys;
        var values = _values;
        int i = (int)Hash(vip, port, protocol) & _mask;
        while (true)
        {
            var v = values[i];
            if (v is null) return null;
            ref readonly ServiceKey k = ref keys[i];
            if (k.Port == port && k.Protocol == protocol && k.Vip.Lo == vip.Lo && k.Vip.Hi == vip.Hi) return v;
            i = (i + 1) & _mask;
        }
    }

    /// <summary>The service a portless packet (a non-first fragment) to <paramref name="vip"/> belongs to: the lowest-port
    /// service of that VIP and protocol, or null.</summary>
    public VirtualService? FindServiceByAddress(in IpAddress vip, byte protocol) =>
        _byVipProtocol.TryGetValue((vip, protocol), out var s) ? s : null;

    /// <summary>Whether <paramref name="address"/> is the VIP of some service.</summary>
    public bool IsVip(in IpAddress address) => _vips.Contains(address);

    /// <summary>The destination with this id, or null when it is unknown or no longer configured.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Destination? Destination(int id)
    {
        var r = Registry;
        return (uint)id < (uint)r.Length ? r[id] : null;
    }
}
