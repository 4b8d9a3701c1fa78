using System.Runtime.CompilerServices;
using TunLB.Core.Connections;
using TunLB.Core.Model;

namespace TunLB.Core.DataPath;

// Adoption (IPVS sloppy_tcp): a TCP segment without SYN and without an entry, scheduled anyway.
public sealed partial class DirectorEngine
{
    /// <summary>
    /// Marks a freshly bound entry of a flow first seen mid-flow as ESTABLISHED (active): the handshake happened
    /// through another director, so the entry takes the established timeout and a FIN moves it to FIN_WAIT, not CLOSE.
    /// Counted per service in this worker's slot.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)] // rare: only after a director change
    private void Adopt(int index, VirtualService svc, Destination dest)
    {
        ref ConnEntry e = ref _table[index];
        if (e.State != ConnState.None) return;
        e.State = ConnState.Established;
        Inc(ref dest.ActiveConnections);
        Dec(ref dest.InactiveConnections);
        svc.Stats.Slot(_worker).Adopted++;
    }
}
