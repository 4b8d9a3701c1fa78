using TunLB.Core.Model;

namespace TunLB.Core.DataPath;

/// <summary>
/// Path MTUs learned from routers' ICMP frag-needed / Packet Too Big about our tunnel packets, with expiry: a
/// learned value lowers <see cref="Destination.Mtu"/> at once and is forgotten after <see cref="ExpiryMs"/>, when the
/// MTU goes back to what it was before (the configured or the route's MTU), as the kernel forgets a learned PMTU
/// after net.ipv4.route.mtu_expires (10 minutes by default). A path that still has the small MTU reports it again
/// with the next big packet. Time is passed in; one thread uses an instance.
/// </summary>
public sealed class LearnedPathMtus
{
    private readonly Dictionary<Destination, (int Base, int Learned, long AtMs)> _learned = new(ReferenceEqualityComparer.Instance);

    /// <param name="expiryMs">How long a learned MTU holds; 0 = for ever.</param>
    public LearnedPathMtus(long expiryMs) { ArgumentOutOfRangeException.ThrowIfNegative(expiryMs); ExpiryMs = expiryMs; }

    public long ExpiryMs { get; }

    public int Count => _learned.Count;

    /// <summary>
    /// Applies a reported MTU when it is below the destination's current one. Returns the previous MTU when it
    /// changed, or null. A lower report restarts the expiry clock; the MTU to go back to stays the first one.
    /// </summary>
    public int? Learn(Destination d, int mtu, long nowMs)
    {
        int old = d.Mtu;
        if (old != 0 && mtu >= old) return null;
        int baseMtu = _learned.TryGetValue(d, out var e) && e.Learned == old ? e.Base : old;
        d.Mtu = mtu;
        _learned[d] = (baseMtu, mtu, nowMs);
        return old;
    }

    /// <summary>
    /// Restores the MTU of destinations whose learned value has expired; calls <paramref name="restored"/> with
    /// (destination, learned, restored MTU). An entry whose MTU was changed meanwhile by someone else (a reload) is
    /// dropped without touching it.
    /// </summary>
    public void Expire(long nowMs, Action<Destination, int, int>? restored = null)
    {
        if (ExpiryMs == 0 || _learned.Count == 0) return;
        List<Destination>? done = null;
        foreach (var (d, (baseMtu, learned, at)) in _learned)
        {
            if (d.Mtu != learned) { (done ??= new()).Add(d); continue; }
            if (nowMs - at < ExpiryMs) continue;
            d.Mtu = baseMtu;
            (done ??= new()).Add(d);
            restored?.Invoke(d, learned, baseMtu);
        }
        if (done is not null) foreach (var d in done) _learned.Remove(d);
    }
}
