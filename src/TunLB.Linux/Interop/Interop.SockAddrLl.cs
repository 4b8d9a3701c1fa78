using System.Runtime.InteropServices;

namespace TunLB.Linux;

internal static unsafe partial class Interop
{
    // <linux/if_ether.h>
    internal const ushort ETH_P_IP = 0x0800;

    // <linux/if_packet.h> sll_pkttype values
    internal const byte PACKET_HOST = 0;
    internal const byte PACKET_OUTGOING = 4;

    /// <summary>struct sockaddr_ll from &lt;linux/if_packet.h&gt;; sll_protocol is in network byte order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct sockaddr_ll
    {
        public ushort sll_family;
        public ushort sll_protocol;
        public int sll_ifindex;
        public ushort sll_hatype;
        public byte sll_pkttype;
        public byte sll_halen;
        public fixed byte sll_addr[8];
    }
}
