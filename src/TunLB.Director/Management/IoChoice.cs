using TunLB.Control.Configuration;

namespace TunLB.Director.Management;

/// <summary>
/// The capture backend the runtime started: <see cref="Backend"/> (tun, afpacket or xdp), what the config asked for
/// (<see cref="Requested"/>, e.g. auto) and, when a better one was skipped, why (<see cref="Skipped"/>, empty otherwise).
/// </summary>
public sealed record IoChoice(IoBackend Backend, IoBackend Requested, string Skipped = "");
