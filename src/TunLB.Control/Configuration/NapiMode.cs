namespace TunLB.Control.Configuration;

/// <summary>
/// How packets the agent writes into its TUN device enter the real server's stack (<c>[realserver] napi</c>).
/// </summary>
public enum NapiMode
{
    /// <summary>Plain TUN: each write(2) runs the server's whole IP/TCP input inside the agent's system call.</summary>
    Off,
    /// <summary>
    /// IFF_NAPI with the device's NAPI poll in a kernel thread (/sys/class/net/DEV/threaded = 1): a write queues the
    /// packet and wakes that thread if it sleeps; the thread runs the server's receive work (with GRO).
    /// </summary>
    Threaded,
}
