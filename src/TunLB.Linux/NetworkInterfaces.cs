namespace TunLB.Linux;

/// <summary>Interface lookups for the control plane.</summary>
public static class NetworkInterfaces
{
    /// <summary>The interface index of <paramref name="name"/> in the current network namespace, 0 if there is none.</summary>
    public static uint IndexOf(string name) => Interop.if_nametoindex(name);
}
