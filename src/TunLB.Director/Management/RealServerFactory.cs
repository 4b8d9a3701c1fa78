using TunLB.Control.Configuration;
using TunLB.Core.Flows;
using TunLB.Core.Model;

namespace TunLB.Director.Management;

/// <summary>
/// The one place a <see cref="Destination"/> is made, for a real server from the file or the API and for a sorry
/// server: a fresh id, the director's source address toward it and its path MTU. Ids are never reused in a process.
/// </summary>
internal sealed class RealServerFactory(DirectorStateOptions options)
{
    private int _nextId = 1;

    /// <summary>The director's source address toward <paramref name="address"/>; throws when there is no route.</summary>
    public IpAddress SourceToward(IpAddress address) => options.OuterSource(address);

    /// <summary>A new destination for <paramref name="r"/>, whose outer source address is already resolved.</summary>
    public Destination Create(RealServerSettings r, IpAddress source)
    {
        var d = new Destination(_nextId++, r.Address, r.Port, r.Weight)
        {
            UpperThreshold = r.UpperThreshold,
            LowerThreshold = r.LowerThreshold,
            OuterSource = source,
        };
        ApplyTunnel(d, r);
        return d;
    }

    /// <summary>A sorry server: weight 0 until quorum is lost.</summary>
    public Destination CreateSorry(IpAddress address, ushort port, IpAddress source) =>
        new(_nextId++, address, port, 0) { OuterSource = source };

    /// <summary>Encapsulation and path MTU of <paramref name="d"/> from <paramref name="r"/> (mtu 0 = the route's MTU).</summary>
    public void ApplyTunnel(Destination d, RealServerSettings r)
    {
        d.Encap = r.Encap;
        d.GuePort = r.GuePort;
        d.GueChecksum = r.GueChecksum;
        d.Mtu = r.Mtu != 0 ? r.Mtu : PathMtu(r.Address);
    }

    /// <summary>The route's MTU toward <paramref name="a"/>, or 0 (no check) when it cannot be read.</summary>
    public int PathMtu(IpAddress a)
    {
        try { return options.PathMtu(a); }
        catch (Exception ex) { options.LogError($"tunlb director: cannot read the path MTU toward {a}: {ex.Message}; no MTU check for it"); return 0; }
    }
}
