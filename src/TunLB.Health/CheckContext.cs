using System.Net;
using System.Net.Sockets;

namespace TunLB.Health;

/// <summary>Binds a check's socket before it connects; the returned lease is disposed when the check ends.</summary>
public delegate IDisposable? SocketBinder(Socket socket, ProtocolType protocol);

/// <summary>Where and how one check runs.</summary>
public sealed record CheckContext
{
    public required CheckSpec Spec { get; init; }
    /// <summary>What to connect to: VIP:port (tunnel) or real:port (direct).</summary>
    public required IPEndPoint Target { get; init; }
    public required IPAddress RealAddress { get; init; }
    public int RealPort { get; init; }
    public IPAddress? Vip { get; init; }
    public int ServicePort { get; init; }
    /// <summary>Binds the socket to the director's address and a pinned port (tunnel); null = the kernel chooses.</summary>
    public SocketBinder? Binder { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Host header / SNI.</summary>
    public string HostName => Spec.Host.Length > 0 ? Spec.Host : Target.Address.ToString();
}

/// <summary>One protocol's checker.</summary>
public interface IHealthChecker
{
    /// <summary>Runs one check within the spec's timeout. Never throws (except on cancellation by <paramref name="ct"/>).</summary>
    Task<CheckResult> CheckAsync(CheckContext ctx, CancellationToken ct);
}

/// <summary>The checker for a check type.</summary>
public static class Checkers
{
    public static IHealthChecker For(string type) => type switch
    {
        "tcp" => new TcpChecker(),
        "http" => new HttpChecker(tls: false),
        "https" => new HttpChecker(tls: true),
        "udp" => new UdpChecker(),
        "dns" => new DnsChecker(),
        "misc" => new MiscChecker(),
        "agent" => new AgentChecker(),
        _ => throw new ArgumentException($"no checker for type \"{type}\"", nameof(type)),
    };

    /// <summary>A connected TCP socket (bound by the context's binder), or an exception with a short reason.</summary>
    internal static async Task<(Socket Socket, IDisposable? Lease)> ConnectTcpAsync(CheckContext ctx, CancellationToken ct)
    {
        var s = new Socket(ctx.Target.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        IDisposable? lease = null;
        try
        {
            s.NoDelay = true;
            // Close with RST: no TIME_WAIT on the director, so a pinned source port can be reused at once.
            s.LingerState = new LingerOption(true, 0);
            lease = ctx.Binder?.Invoke(s, ProtocolType.Tcp);
            await s.ConnectAsync(ctx.Target, ct).ConfigureAwait(false);
            return (s, lease);
        }
        catch
        {
            s.Dispose();
            lease?.Dispose();
            throw;
        }
    }

    /// <summary>"connection refused", "connect timeout after 1.0 s", ...</summary>
    internal static string Describe(Exception e, CheckContext ctx, string phase) => e switch
    {
        OperationCanceledException => $"{phase} timeout after {ctx.Spec.TimeoutSeconds:0.0##} s",
        SocketException se => $"{phase}: {SocketError(se)}",
        IOException { InnerException: SocketException se } => $"{phase}: {SocketError(se)}",
        _ => $"{phase}: {e.Message}",
    };

    private static string SocketError(SocketException e) => e.SocketErrorCode switch
    {
        System.Net.Sockets.SocketError.ConnectionRefused => "connection refused",
        System.Net.Sockets.SocketError.ConnectionReset => "connection reset",
        System.Net.Sockets.SocketError.HostUnreachable => "host unreachable",
        System.Net.Sockets.SocketError.NetworkUnreachable => "network unreachable",
        System.Net.Sockets.SocketError.TimedOut => "timed out",
        _ => e.Message,
    };

    /// <summary>A token cancelled after the spec's timeout (on the context's clock) or by <paramref name="ct"/>.</summary>
    internal static CancellationTokenSource Deadline(CheckContext ctx, CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(ctx.Spec.Timeout);
        return cts;
    }
}
