namespace TunLB.Linux.Xdp;

/// <summary>How an AF_XDP socket binds to its queue.</summary>
public enum XskBindMode
{
    /// <summary>Neither XDP_COPY nor XDP_ZEROCOPY: the kernel takes zero-copy when the driver has it, else copy (veth).</summary>
    Auto,
    /// <summary>XDP_COPY: the kernel copies each frame into (and out of) the UMEM.</summary>
    Copy,
    /// <summary>XDP_ZEROCOPY: the driver DMAs into the UMEM; bind fails where the driver has no AF_XDP support.</summary>
    ZeroCopy,
}
