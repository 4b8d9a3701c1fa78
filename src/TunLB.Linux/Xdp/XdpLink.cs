using System.Runtime.InteropServices;

namespace TunLB.Linux.Xdp;

/// <summary>
/// Attaches a loaded XDP program to a device with BPF_LINK_CREATE: the program stays attached while the returned
/// descriptor is open and is detached when it is closed, also by the kernel when the process dies.
/// </summary>
internal static unsafe class XdpLink
{
    /// <summary>
    /// Returns the link's descriptor. <paramref name="mode"/> null: natively when the driver can, else in generic mode
    /// (<paramref name="taken"/> says which). Throws <see cref="NativeErrorException"/> (EBUSY: the device already has
    /// an XDP program).
    /// </summary>
    public static int Create(int prog, int ifindex, XdpAttachMode? mode, out XdpAttachMode taken)
    {
        taken = mode ?? XdpAttachMode.Native;
        int link = Link(prog, ifindex, taken);
        if (link < 0 && mode is null && Marshal.GetLastPInvokeError() is Interop.EOPNOTSUPP or Interop.EINVAL)
            link = Link(prog, ifindex, taken = XdpAttachMode.Generic); // the driver has no native XDP
        if (link < 0) throw NativeErrorException.FromLastError($"bpf(BPF_LINK_CREATE) XDP {taken} mode on ifindex {ifindex}");
        return link;
    }

    private static int Link(int prog, int ifindex, XdpAttachMode mode)
    {
        Interop.bpf_attr_link_create attr = new()
        {
            prog_fd = (uint)prog, target_ifindex = (uint)ifindex, attach_type = Interop.BPF_XDP,
            flags = mode == XdpAttachMode.Native ? Interop.XDP_FLAGS_DRV_MODE : Interop.XDP_FLAGS_SKB_MODE,
        };
        return Interop.bpf(Interop.BPF_LINK_CREATE, &attr, (uint)sizeof(Interop.bpf_attr_link_create));
    }
}
