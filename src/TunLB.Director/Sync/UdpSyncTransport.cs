using System.Net;
using System.Net.Sockets;
using TunLB.Core.Flows;

namespace TunLB.Director.Sync;

/// <summary>
/// The UDP socket of connection sync: bound to <c>[sync] bind</c> (or every address, dual-stack) and the sync port; unicast
/// to each peer. Not on the data path: only the sync service's two threads use it.
/// </summary>
public sealed class UdpSyncTransport : ISyncTransport
{
    private readonly Socket _socket;
    private readonly int _port;
    private EndPoint _any;

    private UdpSyncTransport(Socket socket, int port)
    {
        _socket = socket; _port = port;
        _any = new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
    }

    /// <exception cref="SocketException">The port is taken, or the address is not on this host.</exception>
    public static UdpSyncTransport Open(IpAddress? bind, int port)
    {
        Socket s;
        if (bind is { } b)
        {
            var a = b.ToIPAddress();
            s = new Socket(a.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            try { s.Bind(new IPEndPoint(a, port)); }
            catch { s.Dispose(); throw; }
        }
        else
        {
            try
            {
                s = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp) { DualMode = true };
                s.Bind(new IPEndPoint(IPAddress.IPv6Any, port));
            }
            catch (SocketException)
            {
                s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                try { s.Bind(new IPEndPoint(IPAddress.Any, port)); }
                catch { s.Dispose(); throw; }
            }
        }
        s.ReceiveBufferSize = 4 << 20; // a bulk answer arrives as a burst
        return new UdpSyncTransport(s, port);
    }

    public int Receive(Span<byte> buffer, int timeoutMs, out IpAddress from)
    {
        from = default;
        try
        {
            if (!_socket.Poll(timeoutMs * 1000, SelectMode.SelectRead)) return 0;
            int n = _socket.ReceiveFrom(buffer, SocketFlags.None, ref _any);
            from = IpAddress.FromIPAddress(((IPEndPoint)_any).Address);
            return n;
        }
        catch (ObjectDisposedException) { return -1; }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.MessageSize or SocketError.ConnectionReset) { return 0; }
    }

    public bool Send(ReadOnlySpan<byte> datagram, IpAddress peer)
    {
        try
        {
            var a = peer.ToIPAddress();
            if (_socket.AddressFamily == AddressFamily.InterNetworkV6 && a.AddressFamily == AddressFamily.InterNetwork) a = a.MapToIPv6();
            return _socket.SendTo(datagram, SocketFlags.None, new IPEndPoint(a, _port)) == datagram.Length;
        }
        catch (SocketException) { return false; }
        catch (ObjectDisposedException) { return false; }
    }

    public void Dispose() => _socket.Dispose();
}
