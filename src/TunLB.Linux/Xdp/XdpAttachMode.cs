namespace TunLB.Linux.Xdp;

/// <summary>How the XDP program runs on the device.</summary>
public enum XdpAttachMode
{
    /// <summary>In the driver, before an skb exists (XDP_FLAGS_DRV_MODE); veth has it.</summary>
    Native,
    /// <summary>On the skb, after the driver (XDP_FLAGS_SKB_MODE): every device has it, at the cost of the allocation.</summary>
    Generic,
}
