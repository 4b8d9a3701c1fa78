namespace TunLB.Linux.Xdp;

/// <summary>How many receive queues a device has, so a caller can open one <see cref="XskSocket"/> (and one worker) per queue.</summary>
public static class DeviceQueues
{
    /// <summary>
    /// The rx-N directories under /sys/class/net/DEVICE/queues: the queues the device uses now (real_num_rx_queues).
    /// sysfs shows the network namespace it was mounted in (the process's, or the one `ip netns exec` mounted).
    /// </summary>
    public static int RxQueueCount(string device)
    {
        string dir = Path.Combine("/sys/class/net", device, "queues");
        if (!Directory.Exists(dir)) throw new IOException($"{dir}: no such device in this mount's network namespace");
        return Directory.GetDirectories(dir, "rx-*").Length;
    }
}
