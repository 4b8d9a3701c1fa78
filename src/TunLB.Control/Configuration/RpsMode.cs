namespace TunLB.Control.Configuration;

/// <summary>
/// Receive packet steering on the agent's TUN device (<c>[realserver] rps</c>): whether the real server's own IP/TCP
/// receive work for injected packets runs in the agent's writing thread or on another CPU's backlog.
/// </summary>
public enum RpsMode
{
    /// <summary>Leave the device's rps_cpus as the kernel made it (0: no steering).</summary>
    Off,
    /// <summary>On hosts with 2+ CPUs: the CPUs the agent is not pinned to, else every CPU (see RpsSteering).</summary>
    Auto,
}
