using TunLB.Core.Packets;

namespace TunLB.Control.Configuration;

/// <summary>How the enum-valued settings are spelled in config files, the API and messages.</summary>
public static class ConfigNames
{
    public static readonly NameTable<IoBackend> Io = new((IoBackend.Tun, "tun"), (IoBackend.AfPacket, "afpacket"), (IoBackend.Xdp, "xdp"), (IoBackend.Auto, "auto"));
    public static readonly NameTable<TxMode> Tx = new((TxMode.Auto, "auto"), (TxMode.Raw, "raw"), (TxMode.Sendmmsg, "sendmmsg"), (TxMode.Ring, "ring"));
    /// <summary><c>encap</c> in a config file, <c>tun_type</c> in the API, <c>--tun-type</c> for adm.</summary>
    public static readonly NameTable<EncapKind> Encap = new((EncapKind.Ipip, "ipip"), (EncapKind.Gue, "gue"));

    public static string ConfigName(this IoBackend io) => Io.Name(io);
    public static string ConfigName(this TxMode tx) => Tx.Name(tx);
    public static string ConfigName(this EncapKind encap) => Encap.Name(encap);
}
